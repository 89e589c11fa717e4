// A Web Push service and browser in one, for tests: it hands out subscriptions whose endpoints are its own URLs,
// checks each push request as a push service must (VAPID token signed by the key it names, for this origin, not
// expired; a TTL; the aes128gcm coding) and decrypts the message as the browser holding the subscription would, with
// http_ece (an independent implementation of RFC 8188/8291), not with the service's own code.
import { createECDH, createPublicKey, randomBytes, verify, type ECDH } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { decrypt } from "http_ece";

export interface PushSubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface ReceivedPush {
  endpoint: string;
  headers: IncomingHttpHeaders;
  /** The decrypted message, as the browser's service worker gets it in `event.data`. */
  plaintext: string;
  /** The VAPID public key the request named (base64url). */
  vapidKey: string;
}

export interface RejectedPush {
  endpoint: string;
  status: number;
  reason: string;
}

export interface WebPushReceiver {
  url: string;
  newSubscription(): PushSubscriptionJson;
  /** Accepted pushes, in arrival order; for one subscription when `endpoint` is given. */
  received(endpoint?: string): ReceivedPush[];
  /** Pushes refused for a bad token, encoding or ciphertext (a correct service causes none). */
  rejected: RejectedPush[];
  /** Waits until `count` pushes were accepted (for `endpoint`, when given). */
  waitFor(count: number, options?: { endpoint?: string; timeoutMs?: number }): Promise<ReceivedPush[]>;
  /** Called with each accepted push before it is answered (e.g. to hand it to a browser's service worker). */
  onPush?: (push: ReceivedPush) => void | Promise<void>;
  /** The answer to a push that checked out (default 201); tests answer 410, 429 (with Retry-After) or 500 with it. */
  respond: (push: ReceivedPush) => PushAnswer | Promise<PushAnswer>;
  close(): Promise<void>;
}

export type PushAnswer = number | { status: number; headers: Record<string, string> };

interface Subscription {
  keys: ECDH;
  auth: Buffer;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Checks `Authorization: vapid t=<JWT>, k=<key>` as a push service does (RFC 8292 section 3); returns the key. */
function checkVapid(header: string | undefined, origin: string): string {
  const match = /^vapid t=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? "");
  if (!match) throw new Refusal(401, `Authorization is not "vapid t=…, k=…": ${header ?? "(none)"}`);
  const [, token, key] = match;
  const point = Buffer.from(key, "base64url");
  if (point.length !== 65 || point[0] !== 4) throw new Refusal(401, "k is not an uncompressed P-256 key");
  const publicKey = createPublicKey({
    format: "jwk",
    key: { kty: "EC", crv: "P-256", x: point.subarray(1, 33).toString("base64url"), y: point.subarray(33).toString("base64url") },
  });
  const [head, claims, signature] = token.split(".");
  const ok = verify("sha256", Buffer.from(`${head}.${claims}`), { key: publicKey, dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64url"));
  if (!ok) throw new Refusal(403, "the VAPID token's signature does not verify under k");
  const parsedHead = JSON.parse(Buffer.from(head, "base64url").toString()) as { alg?: string };
  if (parsedHead.alg !== "ES256") throw new Refusal(403, `the VAPID token's alg is ${parsedHead.alg}, not ES256`);
  const body = JSON.parse(Buffer.from(claims, "base64url").toString()) as { aud?: string; exp?: number; sub?: string };
  if (body.aud !== origin) throw new Refusal(403, `the VAPID token is for ${body.aud}, not ${origin}`);
  const nowS = Date.now() / 1000;
  if (typeof body.exp !== "number" || body.exp < nowS || body.exp > nowS + 24 * 3600) throw new Refusal(403, `the VAPID token's exp ${body.exp} is not within 24 hours`);
  if (typeof body.sub !== "string" || !/^(mailto:|https:)/.test(body.sub)) throw new Refusal(403, `the VAPID token's sub ${body.sub} is not mailto: or https:`);
  return key;
}

export async function startWebPushReceiver(): Promise<WebPushReceiver> {
  const subscriptions = new Map<string, Subscription>();
  const accepted: ReceivedPush[] = [];
  const receiver: WebPushReceiver = {
    url: "",
    rejected: [],
    respond: () => 201,
    newSubscription() {
      const keys = createECDH("prime256v1");
      keys.generateKeys();
      const auth = randomBytes(16);
      const id = randomBytes(12).toString("hex");
      subscriptions.set(id, { keys, auth });
      return { endpoint: `${receiver.url}/push/${id}`, keys: { p256dh: keys.getPublicKey().toString("base64url"), auth: auth.toString("base64url") } };
    },
    received: (endpoint) => accepted.filter((push) => endpoint === undefined || push.endpoint === endpoint),
    async waitFor(count, options = {}) {
      const deadline = Date.now() + (options.timeoutMs ?? 20_000);
      while (receiver.received(options.endpoint).length < count) {
        if (Date.now() > deadline) {
          throw new Error(`push receiver: ${receiver.received(options.endpoint).length} of ${count} pushes arrived (${receiver.rejected.length} rejected)`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return receiver.received(options.endpoint);
    },
    close: async () => {},
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const endpoint = `${receiver.url}${req.url ?? ""}`;
      let status: number;
      let headers: Record<string, string> = {};
      try {
        const id = /^\/push\/([0-9a-f]+)$/.exec(req.url ?? "")?.[1];
        const subscription = id === undefined ? undefined : subscriptions.get(id);
        if (req.method !== "POST") throw new Refusal(405, `${req.method} is not POST`);
        if (!subscription) throw new Refusal(404, "no such subscription");
        const vapidKey = checkVapid(req.headers.authorization, receiver.url);
        if (req.headers["content-encoding"] !== "aes128gcm") throw new Refusal(415, `Content-Encoding is ${req.headers["content-encoding"]}`);
        if (!/^\d+$/.test(String(req.headers.ttl ?? ""))) throw new Refusal(400, "no TTL header");
        const body = Buffer.concat(chunks);
        if (body.length > 4096) throw new Refusal(413, `${body.length} bytes is over 4,096`);
        let plaintext: string;
        try {
          plaintext = decrypt(body, { version: "aes128gcm", privateKey: subscription.keys, authSecret: subscription.auth }).toString("utf8");
        } catch (error) {
          throw new Refusal(400, `cannot decrypt: ${(error as Error).message}`);
        }
        const push: ReceivedPush = { endpoint, headers: req.headers, plaintext, vapidKey };
        const answer = await receiver.respond(push);
        ({ status, headers } = typeof answer === "number" ? { status: answer, headers: {} } : answer);
        if (status >= 200 && status < 300) {
          accepted.push(push);
          await receiver.onPush?.(push);
        }
      } catch (error) {
        status = error instanceof Refusal ? error.status : 500;
        receiver.rejected.push({ endpoint, status, reason: (error as Error).message });
      }
      if (res.destroyed) return;
      res.writeHead(status, { "content-type": "text/plain", ...headers });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
