// Pieces more than one screen shows.
import { h } from "../dom.js";
import type { ViewActions } from "./context.js";

/**
 * A stable colour per address with its first two hex digits, so people recognise each other at a glance; the ENS
 * avatar instead when the peer's verified name has one (names.ts says which URLs), the initials again if it fails.
 */
export function avatar(address: string, size: "small" | "large" = "small", pictureUrl?: string): HTMLElement {
  const hue = parseInt(address.slice(2, 8), 16) % 360;
  const initials = h(
    "span",
    { class: `avatar ${size}`, style: `background: hsl(${hue} 65% 45%)`, "aria-hidden": "true" },
    address.slice(2, 4).toUpperCase(),
  );
  if (!pictureUrl) return initials;
  const picture = h("img", {
    class: `avatar ${size} picture`,
    src: pictureUrl,
    alt: "",
    referrerpolicy: "no-referrer",
    "data-testid": "avatar-picture",
  });
  picture.addEventListener("error", () => picture.replaceWith(initials), { once: true });
  return picture;
}

export function errorBanner(errorMessage: string | undefined, actions: ViewActions): HTMLElement | undefined {
  if (!errorMessage) return undefined;
  return h(
    "div",
    { class: "error-banner", role: "alert", "data-testid": "error-banner" },
    h("span", { class: "error-text" }, errorMessage),
    h(
      "button",
      {
        class: "icon-button",
        type: "button",
        "aria-label": "Dismiss",
        onclick: () => actions.dismissError(),
      },
      "×",
    ),
  );
}
