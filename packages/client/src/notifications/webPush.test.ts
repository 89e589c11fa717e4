// NotifyApi with Web Push (the VAPID key, a webpush target registered without a secret) against a recorded fetch,
// and the conversions from what browsers give: PushSubscription (or its JSON) to a target, the VAPID key to bytes.
import { randomBytes, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { NotifyApiError } from "./errors.js";
import { NotifyApi } from "./NotifyApi.js";
import { base64UrlToBytes, decodeVapidPublicKey, webPushTarget } from "./webPush.js";

/** A real uncompressed P-256 public key, base64url without padding, as browsers and the service write it. */
function p256PublicKey(): string {
  const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
  return point.toString("base64url");
}

function subscriptionJson() {
  return {
    endpoint: "https://push.example.test/send/abc123",
    expirationTime: null,
    keys: { p256dh: p256PublicKey(), auth: randomBytes(16).toString("base64url") },
  };
}

interface Recorded {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** A fetch that records each request and answers with `reply`. */
function recordingFetch(reply: (request: Recorded) => { status: number; body?: unknown }) {
  const requests: Recorded[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    const request: Recorded = {
      url: String(input),
      method: init?.method ?? "GET",
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    };
    requests.push(request);
    const { status, body } = reply(request);
    return new Response(body === undefined ? null : JSON.stringify(body), { status });
  };
  return { requests, fetchFn };
}

describe("webPushTarget", () => {
  it("takes a PushSubscription or its JSON and keeps endpoint and keys", () => {
    const json = subscriptionJson();
    const target = webPushTarget(json);
    expect(target).toEqual({ kind: "webpush", endpoint: json.endpoint, keys: json.keys });
    expect(webPushTarget({ toJSON: () => json })).toEqual(target);
    // Padding some encoders add is dropped: the service gets the browsers' form.
    expect(webPushTarget({ ...json, keys: { p256dh: json.keys.p256dh + "=", auth: json.keys.auth + "==" } })).toEqual(target);
  });

  it("refuses what cannot carry an encrypted payload, saying what is missing", () => {
    const json = subscriptionJson();
    expect(() => webPushTarget({ endpoint: json.endpoint })).toThrow(/no keys.p256dh/);
    expect(() => webPushTarget({ ...json, endpoint: "" })).toThrow(/no endpoint/);
    expect(() => webPushTarget({ ...json, endpoint: "ftp://push.example.test/x" })).toThrow(/not an http\(s\) URL/);
    expect(() => webPushTarget({ ...json, keys: { ...json.keys, auth: randomBytes(12).toString("base64url") } })).toThrow(/12 bytes, not 16/);
    expect(() => webPushTarget({ ...json, keys: { ...json.keys, p256dh: randomBytes(65).toString("base64url") } })).toThrow(/P-256/);
    expect(() => webPushTarget({ ...json, keys: { ...json.keys, auth: "a+b/" } })).toThrow(/base64url/);
  });
});

describe("VAPID key", () => {
  it("decodes to the 65 bytes pushManager.subscribe takes", () => {
    const key = p256PublicKey();
    const bytes = decodeVapidPublicKey(key);
    expect(bytes).toHaveLength(65);
    expect(bytes[0]).toBe(4);
    expect(Buffer.from(bytes).toString("base64url")).toBe(key);
    expect(base64UrlToBytes("-_8")).toEqual(new Uint8Array([0xfb, 0xff]));
    expect(() => decodeVapidPublicKey(Buffer.from(randomBytes(33)).toString("base64url"))).toThrow(/33 bytes/);
  });

  it("is read from the service, and a malformed answer is refused", async () => {
    const key = p256PublicKey();
    const good = recordingFetch(() => ({ status: 200, body: { publicKey: key } }));
    expect(await new NotifyApi("http://notify.test/", { fetch: good.fetchFn }).vapidPublicKey()).toBe(key);
    expect(good.requests.map((r) => `${r.method} ${r.url}`)).toEqual(["GET http://notify.test/v1/webpush/vapid-public-key"]);

    const bad = recordingFetch(() => ({ status: 200, body: { publicKey: "AAAA" } }));
    const error = await new NotifyApi("http://notify.test", { fetch: bad.fetchFn }).vapidPublicKey().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotifyApiError);
    expect((error as NotifyApiError).code).toBe("notify_malformed_response");

    // A service without Web Push answers 404: the refusal says so.
    const none = recordingFetch(() => ({ status: 404, body: { error: { code: "not_found", message: "no such route" } } }));
    const refused = await new NotifyApi("http://notify.test", { fetch: none.fetchFn }).vapidPublicKey().catch((e: unknown) => e);
    expect((refused as NotifyApiError).code).toBe("notify_refused");
    expect((refused as NotifyApiError).status).toBe(404);
  });
});

describe("NotifyApi.register with a webpush target", () => {
  it("sends the target and topics without a secret, and reads the answer as for webhooks", async () => {
    const target = webPushTarget(subscriptionJson());
    const topics = ["/xmtp/0/invite-0xabc/proto"];
    const { requests, fetchFn } = recordingFetch(() => ({ status: 201, body: { id: "i1", accessKey: "k1", topics } }));
    const api = new NotifyApi("http://notify.test", { fetch: fetchFn });
    expect(await api.register({ target, topics })).toEqual({ id: "i1", accessKey: "k1", topics });
    expect(requests).toHaveLength(1);
    expect(requests[0].method).toBe("POST");
    expect(requests[0].url).toBe("http://notify.test/v1/installations");
    expect(requests[0].body).toEqual({ target, topics });
    expect(requests[0].headers["content-type"]).toBe("application/json");
    expect(requests[0].headers.authorization).toBeUndefined();
  });

  it("still sends a webhook's secret", async () => {
    const { requests, fetchFn } = recordingFetch(() => ({ status: 201, body: { id: "i2", accessKey: "k2", topics: [] } }));
    await new NotifyApi("http://notify.test", { fetch: fetchFn }).register({
      target: { kind: "webhook", url: "https://app.test/hook" },
      secret: "a-secret-of-enough-length",
    });
    expect(requests[0].body).toEqual({ target: { kind: "webhook", url: "https://app.test/hook" }, secret: "a-secret-of-enough-length" });
  });
});
