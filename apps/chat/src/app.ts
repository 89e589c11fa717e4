// The chat app put together: the state (state.ts) changes only through events; every change is drawn again in full
// by the views (views/); the effects (effects/) do the work the user's actions and a session ask for.
import { isAddressLike } from "@xmtp-ts/client";
import type { AppConfig } from "./config.js";
import { NameDirectory } from "./effects/names.js";
import { nameLookupProblem, parseEthRpcUrl, peerLabel } from "./names.js";
import { parseNotifyUrl } from "./push.js";
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
  /** Peers' names and avatars: only while an Ethereum JSON-RPC is configured. */
  private names?: NameDirectory;

  constructor(
    private readonly root: HTMLElement,
    private readonly config: AppConfig,
  ) {
    const store: Store = { getState: () => this.state, dispatch: (event) => this.dispatch(event) };
    this.inputs = new PersistentInputs(
      config.apiUrl,
      () => void this.controller.sendMessage(this.inputs.composer.value),
      config.ethRpcUrl ?? "",
      config.notifyUrl ?? "",
    );
    try {
      this.useEthRpcUrl(parseEthRpcUrl(config.ethRpcUrl ?? ""));
    } catch (err) {
      console.warn("Names are off: the Ethereum JSON-RPC URL given is not usable.", err);
    }
    const { inputs } = this;
    this.controller = new ChatController(store, config, {
      refresh: () => this.render(),
      focusComposer: () => inputs.composer.focus(),
      clearComposer: () => inputs.clearComposer(),
      clearNewConversationAddress: () => (inputs.newConversationAddress.value = ""),
      clearGrantInput: () => (inputs.grant.value = ""),
      clearSessionInputs: () => inputs.clearSessionInputs(),
      peerLabel: (address) => peerLabel(address, this.names?.get(address)),
    });
    const controller = this.controller;
    this.context = {
      inputs,
      scroll: this.scroll,
      actions: {
        connect: (kind) => {
          if (this.applyTypedEthRpcUrl() && this.applyTypedNotifyUrl()) void controller.connect(kind, inputs.apiUrl.value);
        },
        forgetDevelopmentWallet: () => controller.forgetDevelopmentWallet(),
        disconnect: () => controller.disconnect(),
        dismissError: () => this.dispatch({ type: "errorDismissed" }),
        showError: (message) => this.dispatch({ type: "errorShown", message }),
        startConversation: () => void this.startConversation(inputs.newConversationAddress.value),
        select: (topic) => void controller.select(topic),
        send: () => void controller.sendMessage(inputs.composer.value),
        retry: (topic, localId) => void controller.retry(topic, localId),
        selectTab: (tab) => controller.selectTab(tab),
        react: (topic, messageId, emoji) => void controller.react(topic, messageId, emoji),
        startReply: (topic, messageId) => controller.startReply(topic, messageId),
        cancelReply: () => controller.cancelReply(),
        enableNotifications: () => void controller.enableNotifications(),
        disableNotifications: () => void controller.disableNotifications(),
        setConsent: (peer, allowed) => void controller.setConsent(peer, allowed),
        useGrant: (draft) => void controller.useGrant(draft, inputs.grant.value),
      },
      names: { get: (address) => this.names?.get(address) },
    };
    config.ethereum?.on?.("accountsChanged", () => controller.accountsChanged());
    this.render();
    // Back to the session open when the page was left, if it can be done without asking anything.
    void controller.restore();
  }

  /** Starts names (and avatars) through `rpcUrl`, or stops them ("": no RPC, nothing is looked up). */
  private useEthRpcUrl(rpcUrl: string): void {
    if ((this.names?.rpcUrl ?? "") === rpcUrl) return;
    this.names?.close();
    this.names = rpcUrl
      ? new NameDirectory(rpcUrl, {
          onChange: () => {
            this.render();
            this.controller?.namesChanged();
          },
        })
      : undefined;
  }

  /** The connect screen's Ethereum JSON-RPC, checked and kept for later visits; false (and an error) if unusable. */
  private applyTypedEthRpcUrl(): boolean {
    let rpcUrl: string;
    try {
      rpcUrl = parseEthRpcUrl(this.inputs.ethRpcUrl.value);
    } catch (err) {
      this.dispatch({ type: "errorShown", message: (err as Error).message });
      return false;
    }
    this.config.saveEthRpcUrl?.(rpcUrl);
    this.useEthRpcUrl(rpcUrl);
    return true;
  }

  /**
   * The connect screen's notification service URL, checked and kept for later visits; false (and an error) if
   * unusable. The session that connects next uses it ("" turns push off).
   */
  private applyTypedNotifyUrl(): boolean {
    let notifyUrl: string;
    try {
      notifyUrl = parseNotifyUrl(this.inputs.notifyUrl.value);
    } catch (err) {
      this.dispatch({ type: "errorShown", message: (err as Error).message });
      return false;
    }
    this.config.saveNotifyUrl?.(notifyUrl);
    this.config.notifyUrl = notifyUrl || undefined;
    return true;
  }

  /** The service worker asks to open a conversation: one of its notifications was clicked. */
  openConversation(topic: string): void {
    this.controller.openConversation(topic);
  }

  /** An address goes to the controller as typed; a name (alice.eth) is resolved first, when names are on. */
  private async startConversation(input: string): Promise<void> {
    const text = input.trim();
    if (isAddressLike(text) || !text.includes(".")) return this.controller.startConversation(input);
    const names = this.names;
    let address: string | null = null;
    let problem: string | undefined;
    if (names) {
      try {
        address = await names.resolve(text);
      } catch (err) {
        problem = nameLookupProblem(text, err);
      }
    }
    if (address === null || problem) {
      this.dispatch({ type: "errorShown", message: problem ?? nameLookupProblem(text, names ? null : "no-rpc") });
      return;
    }
    await this.controller.startConversation(address);
  }

  private dispatch(event: AppEvent): void {
    const next = reduce(this.state, event);
    if (next === this.state) return;
    this.state = next;
    this.render();
  }

  private render(): void {
    const session = this.state.session;
    if (session && this.names) {
      this.names.want([...session.entries.values()].map((entry) => entry.conversation.peerAddress));
      if (session.draft) this.names.want([session.draft.peer]);
    }
    // Read on the connect screen only: the saved wallet can change between renders (created, forgotten).
    const env = this.state.session
      ? { hasBrowserWallet: Boolean(this.config.ethereum) }
      : { hasBrowserWallet: Boolean(this.config.ethereum), savedDevelopmentWallet: savedDevelopmentWallet(this.config.storage)?.address };
    this.inputs.mount(this.root, () => renderScreen(this.state, env, this.context));
  }
}
