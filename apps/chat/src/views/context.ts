// What the views draw with besides the state: the persistent inputs, the thread's scroll memory, and the actions
// their buttons and forms call.
import type { PeerName } from "../names.js";
import type { Draft, InboxTab, WalletKind } from "../state.js";
import type { PersistentInputs } from "./inputs.js";

export interface ViewActions {
  connect(kind: WalletKind): void;
  forgetDevelopmentWallet(): void;
  disconnect(): void;
  dismissError(): void;
  showError(message: string): void;
  /** Starts a conversation with the address in the new-conversation input. */
  startConversation(): void;
  select(topic: string): void;
  /** Sends the composer's text. */
  send(): void;
  /** Sends a failed message again. */
  retry(topic: string, localId: string): void;
  selectTab(tab: InboxTab): void;
  /** Taps `emoji` on a message: on, or off again if it was ours. */
  react(topic: string, messageId: string, emoji: string): void;
  startReply(topic: string, messageId: string): void;
  cancelReply(): void;
  /** Asks the browser for permission to show desktop notifications (and turns push on, with a notification service). */
  enableNotifications(): void;
  /** Stop notifications: ends push notifications. */
  disableNotifications(): void;
  /** Accepts a request or unblocks (allowed), or blocks, the peer. */
  setConsent(peer: string, allowed: boolean): void;
  /** Uses the grant in the grant input for the draft's peer. */
  useGrant(draft: Draft): void;
}

/** The open thread's message list, kept between renders so that a re-render keeps its scroll position. */
export interface ThreadScroll {
  messagesElement?: HTMLElement;
}

/** Peers' verified names and avatars, when the app has an Ethereum JSON-RPC; absent, only addresses show. */
export interface PeerNames {
  get(address: string): PeerName | undefined;
}

export interface ViewContext {
  inputs: PersistentInputs;
  scroll: ThreadScroll;
  actions: ViewActions;
  names?: PeerNames;
}

/** What the connect screen shows that is not app state: it lives in the browser. */
export interface ConnectEnvironment {
  /** The address of the development wallet saved in this browser, if any. */
  savedDevelopmentWallet?: string;
  hasBrowserWallet: boolean;
}
