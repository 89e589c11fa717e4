// The connect screen: the node URL and the two ways to get a wallet.
import { h } from "../dom.js";
import { shortAddress } from "../format.js";
import type { AppState } from "../state.js";
import { errorBanner } from "./common.js";
import type { ConnectEnvironment, ViewContext } from "./context.js";

export function renderConnect(state: AppState, env: ConnectEnvironment, { inputs, actions }: ViewContext): HTMLElement {
  const saved = env.savedDevelopmentWallet;
  const { hasBrowserWallet } = env;
  return h(
    "main",
    { class: "connect-screen" },
    h(
      "div",
      { class: "connect-card" },
      h("div", { class: "brand-mark", "aria-hidden": "true" }, "✉"),
      h("h1", {}, "XMTP chat"),
      h("p", { class: "lead" }, "End-to-end encrypted messages between Ethereum wallets, through an XMTP node."),
      h("label", { class: "field" }, h("span", { class: "field-label" }, "Node URL"), inputs.apiUrl),
      h(
        "details",
        // Drawn again on every change: stays open once opened, and while it holds a URL.
        {
          class: "advanced",
          open: inputs.advancedOpen || inputs.ethRpcUrl.value !== "" || inputs.notifyUrl.value !== "",
          "data-testid": "advanced-settings",
          ontoggle: (event: Event) => (inputs.advancedOpen = (event.currentTarget as HTMLDetailsElement).open),
        },
        h("summary", {}, "Advanced"),
        h("label", { class: "field" }, h("span", { class: "field-label" }, "Ethereum JSON-RPC for ENS names"), inputs.ethRpcUrl),
        h(
          "p",
          { class: "hint" },
          "Optional. With an Ethereum mainnet JSON-RPC URL, people show by their ENS names and avatars, and you can start a conversation with a name. Without one, nothing is looked up.",
        ),
        h("label", { class: "field" }, h("span", { class: "field-label" }, "Notification service (xmtp-notify) URL"), inputs.notifyUrl),
        h(
          "p",
          { class: "hint" },
          "Optional. With a notification service, Notify me also turns on push notifications: you are told of new messages while this app is closed. The service learns which conversations this browser follows, never what they say.",
        ),
      ),
      h(
        "button",
        {
          class: "button primary",
          type: "button",
          disabled: state.busy || !hasBrowserWallet,
          "data-testid": "connect-browser-wallet",
          onclick: () => actions.connect("browser"),
        },
        "Connect browser wallet",
      ),
      !hasBrowserWallet &&
        h("p", { class: "hint" }, "No browser wallet detected (window.ethereum). Install one, or try a development wallet."),
      h(
        "button",
        {
          // Without a browser wallet, the development wallet is the way in: make it the obvious button.
          class: hasBrowserWallet ? "button" : "button primary",
          type: "button",
          disabled: state.busy,
          "data-testid": "connect-dev-wallet",
          onclick: () => actions.connect("development"),
        },
        saved ? `Continue as development wallet ${shortAddress(saved)}` : "Create development wallet",
      ),
      saved &&
        h(
          "button",
          {
            class: "link-button",
            type: "button",
            disabled: state.busy,
            onclick: () => actions.forgetDevelopmentWallet(),
          },
          "Forget this development wallet",
        ),
      h(
        "p",
        { class: "hint" },
        "A development wallet is a random key kept in this browser's storage: fine for trying things out, not for real funds or identities.",
      ),
      state.status && h("p", { class: "status", role: "status", "data-testid": "status" }, state.status),
      errorBanner(state.errorMessage, actions),
    ),
  );
}
