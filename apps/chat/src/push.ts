// Push notifications through xmtp-notify, as the app and its service worker word them. Pure: no DOM, no network, no
// storage, and no import of the client, because the service worker (serviceWorker.ts) is bundled on its own and
// must stay small.

/** What the service worker knows of a topic: the app writes it when it subscribes topics (pushLabels.ts). */
export interface PushLabel {
  topic: string;
  /** The peer as the app shows them: the verified ENS name, else the short address. */
  peer: string;
  /** The conversation's id (a v2 conversation's context), when it has one. */
  conversationId?: string;
}

/** The parts of a push payload (the xmtp-notify delivery body, as JSON) that the service worker reads. */
export interface PushPayload {
  topic?: string;
  deliveryId?: string;
}

/** Reads the decrypted push payload; anything unreadable gives an empty payload (the push is still shown). */
export function readPushPayload(text: string | undefined): PushPayload {
  if (!text) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof value !== "object" || value === null) return {};
  const record = value as { envelope?: { contentTopic?: unknown }; deliveryId?: unknown };
  const topic = typeof record.envelope?.contentTopic === "string" ? record.envelope.contentTopic : undefined;
  const deliveryId = typeof record.deliveryId === "string" ? record.deliveryId : undefined;
  return { topic, deliveryId };
}

/** What the service worker shows for a push: the message stays encrypted there, so it names only the peer. */
export interface PushNotificationContent {
  title: string;
  body: string;
  /** The conversation's topic: the app's own notification for that conversation uses it too, so one replaces the other. */
  tag?: string;
}

export function pushNotificationContent(payload: PushPayload, label: PushLabel | undefined): PushNotificationContent {
  const body = "Open XMTP chat to read it.";
  if (!label) return { title: "New message", body, ...(payload.topic ? { tag: payload.topic } : {}) };
  return { title: label.peer, body: label.conversationId ? `${label.conversationId} · ${body}` : body, tag: label.topic };
}

/** Messages between the service worker and the app's windows. */
export type ServiceWorkerMessage =
  /** A push arrived while a window of the app was focused: nothing was shown, the window sees the message itself. */
  | { type: "xmtp-chat:push"; topic?: string; deliveryId?: string }
  /** A notification was clicked: open this conversation. */
  | { type: "xmtp-chat:open"; topic?: string };

/** The address that opens the app at a conversation, relative to the app's root (`?open=<topic>`). */
export function openConversationPath(topic: string | undefined): string {
  return topic ? `./?open=${encodeURIComponent(topic)}` : "./";
}

/** Why push notifications cannot be turned on, in plain words, and whether trying again can help. */
export interface PushUnavailable {
  reason: string;
  retry: boolean;
}

const STILL_NOTIFIED = "You are still notified while this tab is open in the background.";

/** This browser has no service workers or no Push API (or the page is not a secure context). */
export function pushUnsupported(secureContext: boolean): PushUnavailable {
  if (!secureContext) {
    return {
      reason: `Push notifications need a secure page (https:// or localhost); this one is not. ${STILL_NOTIFIED}`,
      retry: false,
    };
  }
  return { reason: `This browser cannot receive push notifications (it has no Push API). ${STILL_NOTIFIED}`, retry: false };
}

/** The user (or a policy) did not allow notifications. */
export function pushPermissionRefused(setting: string): PushUnavailable {
  if (setting === "denied") {
    return {
      reason: "Notifications are blocked for this site. Allow them in the browser's site settings, then click Notify me again.",
      retry: true,
    };
  }
  return { reason: "Notifications were not allowed. Click Notify me again and choose Allow.", retry: true };
}

/**
 * Why turning push on failed: `stage` says what was being done. Errors are told apart by name and code (the
 * client's NotifyApiError has `code` "notify_…"), never by class, so this module imports nothing.
 */
export function pushFailure(stage: "service-worker" | "subscribe" | "service", error: unknown, notifyUrl: string): PushUnavailable {
  const { name, message, code, status } = (error ?? {}) as { name?: string; message?: string; code?: unknown; status?: unknown };
  const said = message ? ` (${name && name !== "Error" ? `${name}: ` : ""}${message})` : "";
  if (stage === "service-worker") {
    return { reason: `The app's service worker could not be installed${said}. ${STILL_NOTIFIED}`, retry: true };
  }
  if (stage === "subscribe") {
    if (name === "NotAllowedError") return pushPermissionRefused("denied");
    // Chromium answers AbortError "Registration failed - permission denied" when it has no push service to register
    // with (headless, or builds without Google's services): nothing the user can change in this browser.
    return {
      reason: `This browser's push service refused to subscribe${said}, so this browser cannot receive push notifications. ${STILL_NOTIFIED}`,
      retry: name !== "AbortError",
    };
  }
  if (code === "notify_unreachable") {
    return { reason: `The notification service at ${notifyUrl} does not answer${said}. Try again later.`, retry: true };
  }
  if (status === 404) {
    return { reason: `The notification service at ${notifyUrl} does not offer Web Push${said}.`, retry: false };
  }
  return { reason: `The notification service at ${notifyUrl} refused to register this browser${said}.`, retry: true };
}

/** The notification service URL typed on the connect screen (or in ?notifyUrl=), without trailing slashes. */
export function parseNotifyUrl(input: string): string {
  const value = input.trim().replace(/\/+$/, "");
  if (value === "") return "";
  let protocol: string;
  try {
    protocol = new URL(value).protocol;
  } catch {
    throw new Error(`"${value}" is not a URL. The notification service URL looks like https://… or http://127.0.0.1:8080.`);
  }
  if (protocol !== "http:" && protocol !== "https:") {
    throw new Error(`The notification service must be an http:// or https:// URL, not "${value}".`);
  }
  return value;
}
