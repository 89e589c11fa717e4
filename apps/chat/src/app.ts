// The chat app put together: the state (state.ts) changes only through events; every change is drawn again in full
// by the views (views/); the effects (effects/) do the work the user's actions and a session ask for.
import type { AppConfig } from "./config.js";
import { ChatController, type Store } from "./effects/controller.js";
import { initialState, reduce, type AppEvent, type AppState } from "./state.js";
import { savedDevelopmentWallet } from "./wallets.js";
import type { ThreadScroll, ViewContext } from "./views/context.js";
import { PersistentInputs } from "./views/inputs.js";
import { renderScreen } from "./views/screen.js";

export type { AppConfig } from "./config.js";

export class ChatApp {
  private state: AppState = initialState;
  private readonly inputs: PersistentInputs;
  private readonly scroll: ThreadScroll = {};
  private readonly controller: ChatController;
  private readonly context: ViewContext;

  constructor(
    private readonly root: HTMLElement,
    private readonly config: AppConfig,
  ) {
    const store: Store = { getState: () => this.state, dispatch: (event) => this.dispatch(event) };
    this.inputs = new PersistentInputs(config.apiUrl, () => void this.controller.sendMessage(this.inputs.composer.value));
    const { inputs } = this;
    this.controller = new ChatController(store, config, {
      refresh: () => this.render(),
      focusComposer: () => inputs.composer.focus(),
      clearComposer: () => inputs.clearComposer(),
      clearNewConversationAddress: () => (inputs.newConversationAddress.value = ""),
      clearGrantInput: () => (inputs.grant.value = ""),
      clearSessionInputs: () => inputs.clearSessionInputs(),
    });
    const controller = this.controller;
    this.context = {
      inputs,
      scroll: this.scroll,
      actions: {
        connect: (kind) => void controller.connect(kind, inputs.apiUrl.value),
        forgetDevelopmentWallet: () => controller.forgetDevelopmentWallet(),
        disconnect: () => controller.disconnect(),
        dismissError: () => this.dispatch({ type: "errorDismissed" }),
        showError: (message) => this.dispatch({ type: "errorShown", message }),
        startConversation: () => void controller.startConversation(inputs.newConversationAddress.value),
        select: (topic) => void controller.select(topic),
        send: () => void controller.sendMessage(inputs.composer.value),
        retry: (topic, localId) => void controller.retry(topic, localId),
        selectTab: (tab) => controller.selectTab(tab),
        react: (topic, messageId, emoji) => void controller.react(topic, messageId, emoji),
        startReply: (topic, messageId) => controller.startReply(topic, messageId),
        cancelReply: () => controller.cancelReply(),
        enableNotifications: () => void controller.enableNotifications(),
        setConsent: (peer, allowed) => void controller.setConsent(peer, allowed),
        useGrant: (draft) => void controller.useGrant(draft, inputs.grant.value),
      },
    };
    config.ethereum?.on?.("accountsChanged", () => controller.accountsChanged());
    this.render();
    // Back to the session open when the page was left, if it can be done without asking anything.
    void controller.restore();
  }

  private dispatch(event: AppEvent): void {
    const next = reduce(this.state, event);
    if (next === this.state) return;
    this.state = next;
    this.render();
  }

  private render(): void {
    // Read on the connect screen only: the saved wallet can change between renders (created, forgotten).
    const env = this.state.session
      ? { hasBrowserWallet: Boolean(this.config.ethereum) }
      : { hasBrowserWallet: Boolean(this.config.ethereum), savedDevelopmentWallet: savedDevelopmentWallet(this.config.storage)?.address };
    this.inputs.mount(this.root, () => renderScreen(this.state, env, this.context));
  }
}
