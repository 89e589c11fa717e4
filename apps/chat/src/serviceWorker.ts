// The app's service worker: it receives the Web Push messages xmtp-notify sends (the browser has already decrypted
// them, RFC 8291) and shows a notification while no window of the app is focused. It holds no XMTP keys, so it never
// reads a message: the notification names the conversation's peer from the map the page keeps (pushLabels.ts).
// Built by vite as a bundle of its own (effects/push.ts imports it with ?worker&url; vite.config.ts puts it at the
// app's root as sw.js, so its scope is the whole app).
import { openConversationPath, pushNotificationContent, readPushPayload, type ServiceWorkerMessage } from "./push.js";
import { readPushLabel } from "./pushLabels.js";

// The service worker's globals, as far as this file uses them. The app's tsconfig has the DOM library, whose `self`
// is a window; the WebWorker library cannot be added beside it, so the few types are spelt out here.
interface ExtendableEventLike extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface PushEventLike extends ExtendableEventLike {
  readonly data: { text(): string } | null;
}
interface NotificationEventLike extends ExtendableEventLike {
  readonly notification: Notification;
}
interface WindowClientLike {
  readonly url: string;
  readonly focused: boolean;
  focus(): Promise<unknown>;
  postMessage(message: ServiceWorkerMessage): void;
}
interface ServiceWorkerScope {
  readonly registration: ServiceWorkerRegistration;
  readonly clients: {
    matchAll(options: { type: "window"; includeUncontrolled: boolean }): Promise<WindowClientLike[]>;
    openWindow(url: string): Promise<unknown>;
    claim(): Promise<void>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: "install" | "activate", listener: (event: ExtendableEventLike) => void): void;
  addEventListener(type: "push", listener: (event: PushEventLike) => void): void;
  addEventListener(type: "notificationclick", listener: (event: NotificationEventLike) => void): void;
}

const worker = self as unknown as ServiceWorkerScope;

/** The app's windows: those under this worker's scope (another app on the origin is not ours to focus). */
async function appWindows(): Promise<WindowClientLike[]> {
  const windows = await worker.clients.matchAll({ type: "window", includeUncontrolled: true });
  return windows.filter((client) => client.url.startsWith(worker.registration.scope));
}

// A new version takes over at once: the worker keeps nothing between versions that would make waiting useful.
worker.addEventListener("install", (event) => event.waitUntil(worker.skipWaiting()));
worker.addEventListener("activate", (event) => event.waitUntil(worker.clients.claim()));

worker.addEventListener("push", (event) => {
  event.waitUntil(
    (async () => {
      let text: string | undefined;
      try {
        text = event.data?.text();
      } catch {
        // An unreadable payload is still a message for the user: shown as "New message".
      }
      const payload = readPushPayload(text);
      const focused = (await appWindows()).find((client) => client.focused);
      if (focused) {
        // The user is looking at the app, whose own stream shows the message: a notification would only repeat it.
        // Chrome accepts a push with no notification while the site is focused.
        focused.postMessage({ type: "xmtp-chat:push", topic: payload.topic, deliveryId: payload.deliveryId });
        return;
      }
      let label;
      try {
        label = payload.topic ? await readPushLabel(payload.topic) : undefined;
      } catch {
        // No map (storage cleared or blocked): the generic title.
      }
      const content = pushNotificationContent(payload, label);
      await worker.registration.showNotification(content.title, {
        body: content.body,
        // The same tag as the page's own notification for the conversation: one replaces the other.
        ...(content.tag ? { tag: content.tag } : {}),
        data: { topic: payload.topic },
      });
    })(),
  );
});

worker.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const topic = (event.notification.data as { topic?: string } | null)?.topic;
  event.waitUntil(
    (async () => {
      const [open] = await appWindows();
      if (open) {
        await open.focus();
        open.postMessage({ type: "xmtp-chat:open", topic });
        return;
      }
      await worker.clients.openWindow(new URL(openConversationPath(topic), worker.registration.scope).href);
    })(),
  );
});
