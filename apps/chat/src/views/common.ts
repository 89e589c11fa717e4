// Pieces more than one screen shows.
import { h } from "../dom.js";
import type { ViewActions } from "./context.js";

/** A stable colour per address, so people recognise each other at a glance. */
export function avatar(address: string, size: "small" | "large" = "small"): HTMLElement {
  const hue = parseInt(address.slice(2, 8), 16) % 360;
  return h(
    "span",
    { class: `avatar ${size}`, style: `background: hsl(${hue} 65% 45%)`, "aria-hidden": "true" },
    address.slice(2, 4).toUpperCase(),
  );
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
