// What the page hands the app (main.ts): the node, the browser's storage and wallet.
import type { Notifier } from "./effects/notifications.js";
import type { Eip1193Provider } from "./wallets.js";

export interface AppConfig {
  apiUrl: string;
  storage: Storage;
  /** The browser wallet (window.ethereum), when there is one. */
  ethereum?: Eip1193Provider;
  /** Remembers the node URL the user typed. */
  saveApiUrl(url: string): void;
  /** An Ethereum JSON-RPC for ENS names and avatars (?ethRpcUrl=, or as last typed); without it nothing is looked up. */
  ethRpcUrl?: string;
  /** Remembers the Ethereum JSON-RPC URL the user typed ("" forgets it). */
  saveEthRpcUrl?(url: string): void;
  /** Settles once the crypto back end is chosen (libsecp256k1 loaded, or noble kept): connecting waits for it. */
  cryptoReady?: Promise<unknown>;
  /** Desktop notifications; the browser's Notification API when not given. */
  notifier?: Notifier;
  /** A notification service (xmtp-notify) for push notifications (?notifyUrl=, or as last typed or used); none: off. */
  notifyUrl?: string;
  /** Remembers the notification service URL ("" forgets it). */
  saveNotifyUrl?(url: string): void;
  /** A conversation to open once listed: the page was opened by a click on a push notification (?open=). */
  openTopic?: string;
}
