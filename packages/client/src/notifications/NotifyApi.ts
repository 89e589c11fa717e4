// A small HTTP client for xmtp-notify's API (packages/notify/README.md "HTTP API"): register an installation with
// a webhook target and a secret, or a Web Push subscription, subscribe and unsubscribe topics, read and delete it,
// and read the service's VAPID key. Only fetch: no dependency on the service's package.
import { NotifyApiError } from "./errors.js";
import { decodeVapidPublicKey } from "./webPush.js";

/** Delivery by an HTTPS POST to a server of the app's, signed with the installation's secret. */
export interface WebhookTarget {
  kind: "webhook";
  url: string;
}

/**
 * Delivery through a browser's push service (RFC 8030, encrypted per RFC 8291 to `keys`, signed with the service's
 * VAPID key): what `PushSubscription.toJSON()` gives, see webPushTarget().
 */
export interface WebPushTarget {
  kind: "webpush";
  endpoint: string;
  /** base64url, no padding: the subscription's P-256 public key and its 16-byte authentication secret. */
  keys: { p256dh: string; auth: string };
}

export type NotificationTarget = WebhookTarget | WebPushTarget;

/** What identifies an installation in later calls: its id and the access key given once, at registration. */
export interface InstallationCredentials {
  id: string;
  accessKey: string;
}

export interface RegisteredInstallation extends InstallationCredentials {
  topics: string[];
}

export interface DeadLetter {
  digest: string;
  envelope: { contentTopic: string; timestampNs: string; message: string };
  attempts: number;
  lastError: string;
  deadAt: string;
}

export interface InstallationInfo {
  id: string;
  target: NotificationTarget;
  topics: string[];
  createdAt: string;
  deliveries: { pending: number; delivered: number; dead: number };
  deadLetters: DeadLetter[];
}

export type RegisterInstallationInput =
  | {
      target: WebhookTarget;
      /** 16-256 characters; signs every delivery (HMAC-SHA256), so keep it for verifyPushSignature. */
      secret: string;
      topics?: string[];
    }
  | {
      target: WebPushTarget;
      /** Not needed: a push message is authenticated by the subscription's own keys (RFC 8291), not by a secret. */
      secret?: string;
      topics?: string[];
    };

export interface NotifyApiOptions {
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /** Topics per subscribe/unsubscribe request (large sets are sent in several); default 500. */
  topicsPerRequest?: number;
  fetch?: typeof fetch;
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; field?: unknown };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

export class NotifyApi {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly topicsPerRequest: number;
  private readonly fetchFn: typeof fetch;

  constructor(url: string, options: NotifyApiOptions = {}) {
    this.url = url.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.topicsPerRequest = Math.max(1, options.topicsPerRequest ?? 500);
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Registers an installation; the answer's `accessKey` is given only this once. */
  async register(input: RegisterInstallationInput): Promise<RegisteredInstallation> {
    const body = await this.call("POST", "/v1/installations", undefined, {
      target: input.target,
      ...(input.secret === undefined ? {} : { secret: input.secret }),
      ...(input.topics ? { topics: input.topics } : {}),
    });
    const answer = body as Partial<RegisteredInstallation> | undefined;
    if (typeof answer?.id !== "string" || typeof answer.accessKey !== "string" || !isStringArray(answer.topics)) {
      throw new NotifyApiError("notify_malformed_response", "register: the answer has no id, accessKey and topics");
    }
    return { id: answer.id, accessKey: answer.accessKey, topics: answer.topics };
  }

  /**
   * The service's VAPID public key (base64url, a 65-byte uncompressed P-256 point): pass it, or its bytes
   * (decodeVapidPublicKey), as `applicationServerKey` to `pushManager.subscribe`. A push service then accepts
   * messages for that subscription only when this service signs them.
   */
  async vapidPublicKey(): Promise<string> {
    const body = (await this.call("GET", "/v1/webpush/vapid-public-key", undefined)) as { publicKey?: unknown } | undefined;
    const key = body?.publicKey;
    if (typeof key !== "string") throw new NotifyApiError("notify_malformed_response", "vapid-public-key: the answer has no publicKey");
    try {
      decodeVapidPublicKey(key);
    } catch (error) {
      throw new NotifyApiError("notify_malformed_response", `vapid-public-key: ${(error as Error).message}`, { cause: error });
    }
    return key;
  }

  /** Adds topics; returns every topic the installation now holds. */
  subscribe(installation: InstallationCredentials, topics: string[]): Promise<string[]> {
    return this.changeTopics(installation, "subscribe", topics);
  }

  /** Removes topics; returns every topic the installation still holds. */
  unsubscribe(installation: InstallationCredentials, topics: string[]): Promise<string[]> {
    return this.changeTopics(installation, "unsubscribe", topics);
  }

  /** The installation as the service holds it (never its secret). */
  async get(installation: InstallationCredentials): Promise<InstallationInfo> {
    const body = (await this.call("GET", this.path(installation), installation.accessKey)) as Partial<InstallationInfo> | undefined;
    if (typeof body?.id !== "string" || !isStringArray(body.topics)) {
      throw new NotifyApiError("notify_malformed_response", "get: the answer has no id and topics");
    }
    return body as InstallationInfo;
  }

  /** Deletes the installation with its topics and queue. */
  async delete(installation: InstallationCredentials): Promise<void> {
    await this.call("DELETE", this.path(installation), installation.accessKey);
  }

  private path(installation: InstallationCredentials): string {
    return `/v1/installations/${encodeURIComponent(installation.id)}`;
  }

  private async changeTopics(installation: InstallationCredentials, action: "subscribe" | "unsubscribe", topics: string[]): Promise<string[]> {
    let held: string[] | undefined;
    const unique = [...new Set(topics)];
    // An empty change still answers the topics held.
    for (let start = 0; start === 0 || start < unique.length; start += this.topicsPerRequest) {
      const chunk = unique.slice(start, start + this.topicsPerRequest);
      const body = (await this.call("POST", `${this.path(installation)}/${action}`, installation.accessKey, { topics: chunk })) as
        | { topics?: unknown }
        | undefined;
      if (!isStringArray(body?.topics)) throw new NotifyApiError("notify_malformed_response", `${action}: the answer has no topics`);
      held = body.topics;
    }
    return held!;
  }

  private async call(method: string, path: string, accessKey: string | undefined, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await this.fetchFn(this.url + path, {
        method,
        headers: {
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...(accessKey === undefined ? {} : { authorization: `Bearer ${accessKey}` }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      const reason = (error as Error).name === "TimeoutError" ? `no answer within ${this.timeoutMs} ms` : (cause?.code ?? (error as Error).message);
      throw new NotifyApiError("notify_unreachable", `${method} ${this.url}${path}: ${reason}`, { cause: error });
    }
    const text = await response.text().catch(() => "");
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      if (response.ok) throw new NotifyApiError("notify_malformed_response", `${method} ${path}: the answer is not JSON`, { status: response.status });
    }
    if (!response.ok) {
      const error = (parsed as ErrorBody | undefined)?.error;
      const serviceCode = typeof error?.code === "string" ? error.code : undefined;
      const field = typeof error?.field === "string" ? error.field : undefined;
      const message = typeof error?.message === "string" ? error.message : `HTTP ${response.status}`;
      throw new NotifyApiError("notify_refused", `${method} ${path}: ${response.status} ${serviceCode ?? ""} ${message}`.replace(/\s+/g, " "), {
        status: response.status,
        serviceCode,
        field,
      });
    }
    return parsed;
  }
}
