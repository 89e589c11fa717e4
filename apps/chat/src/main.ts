import "./style.css";
import { ChatApp } from "./app.js";
import { loadCryptoBackend } from "./cryptoBackend.js";
import type { ServiceWorkerMessage } from "./push.js";
import type { Eip1193Provider } from "./wallets.js";

const API_URL_KEY = "xmtp-chat:api-url";
const ETH_RPC_URL_KEY = "xmtp-chat:eth-rpc-url";
const NOTIFY_URL_KEY = "xmtp-chat:notify-url";
const DEFAULT_API_URL = "http://localhost:5555";

/** ?apiUrl= beats the URL the user last typed, which beats the build's VITE_XMTP_API_URL and the local default. */
function initialApiUrl(): string {
  const fromQuery = new URLSearchParams(location.search).get("apiUrl");
  return (
    fromQuery ||
    localStorage.getItem(API_URL_KEY) ||
    (import.meta.env.VITE_XMTP_API_URL as string | undefined) ||
    DEFAULT_API_URL
  );
}

/** ?ethRpcUrl= beats the URL last typed in the connect screen's advanced settings; none by default. */
function initialEthRpcUrl(): string {
  return new URLSearchParams(location.search).get("ethRpcUrl") || localStorage.getItem(ETH_RPC_URL_KEY) || "";
}

/** ?notifyUrl= beats the notification service last typed or used; none by default (push notifications off). */
function initialNotifyUrl(): string {
  return new URLSearchParams(location.search).get("notifyUrl") || localStorage.getItem(NOTIFY_URL_KEY) || "";
}

// Started before anything else, so it is usually loaded by the time someone clicks Connect; connecting waits for it.
const cryptoReady = loadCryptoBackend();

const root = document.getElementById("app");
if (!root) throw new Error("index.html has no #app element");

const app = new ChatApp(root, {
  apiUrl: initialApiUrl(),
  storage: localStorage,
  ethereum: (window as { ethereum?: Eip1193Provider }).ethereum,
  saveApiUrl: (url) => localStorage.setItem(API_URL_KEY, url),
  ethRpcUrl: initialEthRpcUrl(),
  saveEthRpcUrl: (url) => (url ? localStorage.setItem(ETH_RPC_URL_KEY, url) : localStorage.removeItem(ETH_RPC_URL_KEY)),
  cryptoReady,
  notifyUrl: initialNotifyUrl() || undefined,
  saveNotifyUrl: (url) => (url ? localStorage.setItem(NOTIFY_URL_KEY, url) : localStorage.removeItem(NOTIFY_URL_KEY)),
  // A click on a push notification opened this page at a conversation (serviceWorker.ts).
  openTopic: new URLSearchParams(location.search).get("open") || undefined,
});

// A click on a push notification while this page was open: the service worker asks it to open the conversation.
navigator.serviceWorker?.addEventListener("message", (event: MessageEvent<ServiceWorkerMessage>) => {
  if (event.data?.type === "xmtp-chat:open" && event.data.topic) app.openConversation(event.data.topic);
});
