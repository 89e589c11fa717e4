// Push notifications through a notification service (xmtp-notify, packages/notify): the app's service worker is
// registered, the browser's push service subscribed with the service's VAPID key, and the subscription registered
// as an installation whose topics the client's NotificationTopicKeeper keeps in step with the inbox. The
// installation's id and access key are kept in localStorage per wallet and service, so a reload follows the same
// installation instead of registering again. Everything is reported to the state as a PushState.
import { decodeVapidPublicKey, NotifyApi, webPushTarget, type InstallationCredentials } from "@xmtp-ts/client";
import serviceWorkerUrl from "../serviceWorker.ts?worker&url";
import { pushFailure, pushPermissionRefused, pushUnsupported, type PushLabel, type PushUnavailable } from "../push.js";
import { clearPushLabels, savePushLabels } from "../pushLabels.js";
import type { NotificationSetting, PushState } from "../state.js";
import { topicKeeper, type ChatClient, type TopicKeeper } from "../xmtp.js";

/** What is kept between visits: the installation, and the push endpoint it was registered for. */
interface InstallationRecord extends InstallationCredentials {
  endpoint: string;
}

export interface PushOptions {
  notifyUrl: string;
  storage: Storage;
  report(push: PushState): void;
  /** The labels of the session's conversations, as the notifications should name them. */
  labels(): PushLabel[];
  /** A failure worth telling the user that does not change the state (stopping could not reach the service). */
  showError(message: string): void;
  /** Remembers the service URL once push is on, so a page opened from a notification finds it again. */
  saveNotifyUrl?(url: string): void;
}

class PushStop extends Error {
  constructor(readonly unavailable: PushUnavailable) {
    super(unavailable.reason);
  }
}

function recordKey(address: string, notifyUrl: string): string {
  return `xmtp-chat:push-installation:${address}:${notifyUrl}`;
}

/** The app's scope: the directory of the page (sw.js is built there; in development vite allows "/" by header). */
function appScope(): string {
  return new URL(".", document.baseURI).pathname;
}

function pushSupported(): boolean {
  return "serviceWorker" in navigator && "PushManager" in window;
}

function sameBytes(a: ArrayBuffer | null | undefined, b: Uint8Array): boolean {
  if (!a || a.byteLength !== b.length) return false;
  const view = new Uint8Array(a);
  return view.every((byte, i) => byte === b[i]);
}

export class PushNotifications {
  private readonly api: NotifyApi;
  private keeper?: TopicKeeper;
  /** The labels last written, by topic (as JSON): only changes are written again. */
  private readonly written = new Map<string, string>();
  private labelsQueued = false;

  constructor(
    private readonly client: ChatClient,
    private readonly options: PushOptions,
  ) {
    this.api = new NotifyApi(options.notifyUrl);
  }

  private get key(): string {
    return recordKey(this.client.address, this.options.notifyUrl);
  }

  private loadRecord(): InstallationRecord | undefined {
    try {
      const value = JSON.parse(this.options.storage.getItem(this.key) ?? "null") as Partial<InstallationRecord> | null;
      if (typeof value?.id === "string" && typeof value.accessKey === "string" && typeof value.endpoint === "string") {
        return { id: value.id, accessKey: value.accessKey, endpoint: value.endpoint };
      }
    } catch {
      // A damaged record is no record: Notify me is offered again.
    }
    return undefined;
  }

  /** The session began: with an installation kept from an earlier visit, follow the inbox again; else offer it. */
  async resume(): Promise<void> {
    const record = this.loadRecord();
    if (!record || !pushSupported()) {
      this.options.report({ status: "off" });
      return;
    }
    this.options.report({ status: "starting" });
    try {
      // Registering again is how a page gets a newer sw.js installed; it keeps the subscription.
      const registration = await navigator.serviceWorker.register(serviceWorkerUrl, this.registrationOptions());
      const subscription = await registration.pushManager.getSubscription();
      if (!subscription || subscription.endpoint !== record.endpoint) {
        // The browser dropped or replaced the subscription: the installation pushes nowhere useful any more.
        await this.api.delete(record).catch(() => undefined);
        this.forget();
        this.options.report({ status: "off" });
        return;
      }
      await this.follow(record);
      this.options.report({ status: "on" });
    } catch (error) {
      if ((error as { status?: unknown }).status === 404) {
        // The service no longer has it (deleted elsewhere, or the service's data was reset).
        this.forget();
        this.options.report({ status: "off" });
        return;
      }
      this.options.report({ status: "unavailable", ...pushFailure("service", error, this.options.notifyUrl) });
    }
  }

  /** Turns push on, from the user's click, once the browser's notification permission is known. */
  async enable(setting: NotificationSetting): Promise<void> {
    if (this.keeper) return;
    this.options.report({ status: "starting" });
    // One that could not be followed on the last visit is replaced, not left pushing beside the new one.
    const stale = this.loadRecord();
    if (stale) await this.api.delete(stale).catch(() => undefined);
    let registered: InstallationRecord | undefined;
    let subscription: PushSubscription | undefined;
    try {
      if (!pushSupported() || setting === "unsupported") throw new PushStop(pushUnsupported(window.isSecureContext));
      if (setting !== "granted") throw new PushStop(pushPermissionRefused(setting));
      const registration = await this.step("service-worker", async () => {
        await navigator.serviceWorker.register(serviceWorkerUrl, this.registrationOptions());
        // Subscribing needs an active worker; `ready` waits for it.
        return navigator.serviceWorker.ready;
      });
      const vapidKey = await this.step("service", () => this.api.vapidPublicKey());
      const keyBytes = decodeVapidPublicKey(vapidKey);
      subscription = await this.step("subscribe", async () => {
        const existing = await registration.pushManager.getSubscription();
        if (existing && sameBytes(existing.options.applicationServerKey, keyBytes)) return existing;
        // Made for another service's key: push services refuse its messages, so it is replaced.
        await existing?.unsubscribe();
        return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: new Uint8Array(keyBytes) });
      });
      const target = webPushTarget(subscription);
      const installation = await this.step("service", () => this.api.register({ target }));
      registered = { id: installation.id, accessKey: installation.accessKey, endpoint: target.endpoint };
      this.options.storage.setItem(this.key, JSON.stringify(registered));
      await this.step("service", () => this.follow(registered!));
      this.options.saveNotifyUrl?.(this.options.notifyUrl);
      this.options.report({ status: "on" });
    } catch (error) {
      // Nothing half-made is left behind: an installation nobody follows, or a subscription nobody uses.
      await this.stop();
      if (registered) await this.api.delete(registered).catch(() => undefined);
      await subscription?.unsubscribe().catch(() => undefined);
      this.forget();
      const unavailable = error instanceof PushStop ? error.unavailable : pushFailure("service", error, this.options.notifyUrl);
      this.options.report({ status: "unavailable", ...unavailable });
    }
  }

  /** Turns push off: the installation is deleted, the push subscription ended, the labels forgotten. */
  async disable(): Promise<void> {
    const record = this.loadRecord();
    this.options.report({ status: "stopping" });
    await this.stop();
    try {
      if (record) await this.api.delete(record);
    } catch (error) {
      // Already gone is what was wanted; otherwise the service keeps pushing to a subscription ended below, which
      // the push service refuses.
      if ((error as { status?: unknown }).status !== 404) {
        this.options.showError(`Could not tell the notification service to stop: ${(error as Error).message}`);
      }
    }
    try {
      const registration = pushSupported() ? await navigator.serviceWorker.getRegistration(appScope()) : undefined;
      await (await registration?.pushManager.getSubscription())?.unsubscribe();
    } catch (error) {
      console.warn("XMTP chat: could not end the push subscription.", error);
    }
    this.forget();
    this.options.report({ status: "off" });
  }

  /** Stops following the inbox (the session ended); the installation stays for the next visit. */
  async stop(): Promise<void> {
    const keeper = this.keeper;
    this.keeper = undefined;
    await keeper?.stop().catch(() => undefined);
  }

  /** Writes the labels that changed, once per turn of the event loop however often it is asked. */
  refreshLabels(): void {
    if (!this.keeper || this.labelsQueued) return;
    this.labelsQueued = true;
    setTimeout(() => {
      this.labelsQueued = false;
      void this.writeLabels();
    }, 0);
  }

  private async writeLabels(): Promise<void> {
    if (!this.keeper) return;
    const changed = this.options.labels().filter((label) => this.written.get(label.topic) !== JSON.stringify(label));
    if (changed.length === 0) return;
    try {
      await savePushLabels(changed);
      for (const label of changed) this.written.set(label.topic, JSON.stringify(label));
    } catch (error) {
      // Notifications then say "New message" instead of naming the peer.
      console.warn("XMTP chat: could not keep the names for push notifications.", error);
    }
  }

  private registrationOptions(): RegistrationOptions {
    // In development vite serves the worker as an ES module; the build makes it a classic script (sw.js).
    return { scope: appScope(), type: import.meta.env.DEV ? "module" : "classic" };
  }

  /** Starts the topic keeper for `installation`: it syncs the topics, then follows the inbox. */
  private async follow(installation: InstallationCredentials): Promise<void> {
    const keeper = topicKeeper(this.client, this.api, installation, {
      onError: (error) => {
        if ((error as { status?: unknown }).status === 404) {
          // The service removed the installation (its push subscription was gone, or it was deleted elsewhere):
          // push is off until Notify me is clicked again.
          void this.stop().then(() => {
            this.forget();
            this.options.report({ status: "off" });
          });
          return;
        }
        console.warn("XMTP chat: keeping the notification topics in step failed; it goes on.", error);
      },
      onChange: () => this.refreshLabels(),
    });
    await keeper.start();
    this.keeper = keeper;
    await this.writeLabels();
  }

  private forget(): void {
    this.options.storage.removeItem(this.key);
    this.written.clear();
    void clearPushLabels().catch(() => undefined);
  }

  /** Runs one step of turning push on; a failure becomes the reason shown for that step. */
  private async step<T>(stage: "service-worker" | "subscribe" | "service", work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof PushStop) throw error;
      throw new PushStop(pushFailure(stage, error, this.options.notifyUrl));
    }
  }
}
