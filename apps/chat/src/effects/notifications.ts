// Desktop notifications (the Notification API): permission is asked only when the user turns them on (a click),
// never at load; a message is shown only while the tab is hidden, and clicking it brings the tab back to that
// conversation. The browser's API is behind Notifier so the controller does not touch globals.
import type { NotificationSetting } from "../state.js";

export interface Notifier {
  setting(): NotificationSetting;
  /** Asks the browser (call it from a user's action: browsers ignore or penalise asking otherwise). */
  request(): Promise<NotificationSetting>;
  /** Whether the page is out of sight (another tab, minimised): only then is a message notified. */
  hidden(): boolean;
  show(title: string, body: string, tag: string, onClick: () => void): void;
}

export function browserNotifier(): Notifier {
  const api = (globalThis as { Notification?: typeof Notification }).Notification;
  return {
    setting: () => (api ? api.permission : "unsupported"),
    async request() {
      if (!api) return "unsupported";
      try {
        return await api.requestPermission();
      } catch {
        return api.permission;
      }
    },
    hidden: () => document.visibilityState === "hidden",
    show(title, body, tag, onClick) {
      if (!api || api.permission !== "granted") return;
      try {
        // The same tag replaces the conversation's earlier notification instead of stacking them.
        const notification = new api(title, { body, tag });
        notification.onclick = () => {
          window.focus();
          notification.close();
          onClick();
        };
      } catch (err) {
        // Some browsers allow notifications only from a service worker: the app goes on without them.
        console.warn("XMTP chat: could not show a notification.", err);
      }
    },
  };
}
