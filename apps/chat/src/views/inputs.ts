// The inputs the user types in. They survive re-renders (each render moves them into the new tree), so typing,
// selection and focus are never lost.
import { h } from "../dom.js";

/** The tallest the composer grows before it scrolls. */
const COMPOSER_MAX_HEIGHT_PX = 160;

export class PersistentInputs {
  readonly composer = h("textarea", {
    class: "composer-input",
    rows: 1,
    placeholder: "Write a message…",
    "aria-label": "Message",
    "data-testid": "composer-input",
  });
  readonly newConversationAddress = h("input", {
    class: "new-conversation-input",
    type: "text",
    spellcheck: "false",
    autocomplete: "off",
    placeholder: "0x… address or name.eth",
    "aria-label": "Address to message",
    "data-testid": "new-conversation-address",
  });
  readonly apiUrl = h("input", {
    class: "api-url-input",
    type: "url",
    spellcheck: "false",
    "aria-label": "Node URL",
    "data-testid": "api-url",
  });
  readonly ethRpcUrl = h("input", {
    class: "eth-rpc-url-input",
    type: "url",
    spellcheck: "false",
    placeholder: "https://… (optional)",
    "aria-label": "Ethereum JSON-RPC for ENS names",
    "data-testid": "eth-rpc-url",
  });
  readonly notifyUrl = h("input", {
    class: "notify-url-input",
    type: "url",
    spellcheck: "false",
    placeholder: "https://… (optional)",
    "aria-label": "Notification service URL",
    "data-testid": "notify-url",
  });
  /** Whether the connect screen's advanced settings are open. */
  advancedOpen = false;
  readonly grant = h("input", {
    class: "grant-input",
    type: "text",
    spellcheck: "false",
    autocomplete: "off",
    placeholder: "Paste a relationship grant (base64)",
    "aria-label": "Relationship grant",
    "data-testid": "postage-grant-input",
  });

  /** `onEnter`: Enter (without Shift, outside an input method's composition) in the composer sends. */
  constructor(apiUrl: string, onEnter: () => void, ethRpcUrl = "", notifyUrl = "") {
    this.apiUrl.value = apiUrl;
    this.ethRpcUrl.value = ethRpcUrl;
    this.notifyUrl.value = notifyUrl;
    this.composer.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        onEnter();
      }
    });
    this.composer.addEventListener("input", () => this.fitComposer());
  }

  /** Grows the composer with its text, up to a limit. */
  fitComposer(): void {
    this.composer.style.height = "auto";
    this.composer.style.height = `${Math.min(this.composer.scrollHeight, COMPOSER_MAX_HEIGHT_PX)}px`;
  }

  clearComposer(): void {
    this.composer.value = "";
    this.fitComposer();
  }

  clearSessionInputs(): void {
    this.composer.value = "";
    this.newConversationAddress.value = "";
    this.grant.value = "";
  }

  /**
   * Replaces `root`'s content with what `build` returns. Moving the inputs into the new tree drops focus; it goes
   * back where it was, with the selection.
   */
  mount(root: HTMLElement, build: () => HTMLElement): void {
    const focused = document.activeElement;
    const keep = [this.composer, this.newConversationAddress, this.apiUrl, this.ethRpcUrl, this.notifyUrl, this.grant].find((e) => e === focused);
    const selection = keep ? [keep.selectionStart, keep.selectionEnd] : undefined;
    root.replaceChildren(build());
    if (keep && keep.isConnected && !keep.disabled) {
      keep.focus();
      if (selection) keep.setSelectionRange(selection[0], selection[1]);
    }
  }
}
