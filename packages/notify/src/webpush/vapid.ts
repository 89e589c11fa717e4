// VAPID (RFC 8292): the service proves to push services that it is the application server a subscription was made
// for. Each request carries a short-lived ES256 JWT for the push service's origin, and the public key the browser was
// given as `applicationServerKey` when it subscribed.
import { createECDH, createPrivateKey, randomBytes, sign, type KeyObject } from "node:crypto";

/** Push services refuse tokens valid for longer than 24 hours (RFC 8292 section 2). */
export const MAX_VAPID_TOKEN_LIFETIME_MS = 24 * 3_600_000;
/** Tokens are made for 12 hours and used for at most 6, so clock skew never lets one expire in flight. */
const TOKEN_LIFETIME_MS = 12 * 3_600_000;
const TOKEN_REUSE_MS = 6 * 3_600_000;

export interface VapidKeys {
  /** The P-256 private scalar, 32 bytes. */
  privateKey: Uint8Array;
  /** The uncompressed public point, 65 bytes: what browsers take as `applicationServerKey`. */
  publicKey: Uint8Array;
}

export function generateVapidKeys(): VapidKeys {
  return vapidKeysFromPrivateKey(randomBytes(32));
}

export function vapidKeysFromPrivateKey(privateKey: Uint8Array): VapidKeys {
  if (privateKey.length !== 32) throw new RangeError(`a VAPID private key is 32 bytes, got ${privateKey.length}`);
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(privateKey); // throws for zero or a scalar beyond the group order
  return { privateKey: Uint8Array.from(privateKey), publicKey: Uint8Array.from(ecdh.getPublicKey()) };
}

function signingKey(keys: VapidKeys): KeyObject {
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
  return createPrivateKey({
    format: "jwk",
    key: { kty: "EC", crv: "P-256", d: b64(keys.privateKey), x: b64(keys.publicKey.subarray(1, 33)), y: b64(keys.publicKey.subarray(33, 65)) },
  });
}

/** `mailto:` or `https:`: how a push service operator can reach whoever runs this service (RFC 8292 section 2.1). */
export function checkVapidSubject(subject: string): void {
  if (!/^mailto:[^@\s]+@[^@\s]+$/.test(subject) && !/^https:\/\/\S+$/.test(subject)) {
    throw new RangeError(`the VAPID subject must be a mailto: address or an https: URL, got ${JSON.stringify(subject)}`);
  }
}

/** Makes the `Authorization` header for requests to push services, one token per origin, reused for a while. */
export class VapidSigner {
  private readonly key: KeyObject;
  private readonly publicKeyText: string;
  private readonly tokens = new Map<string, { header: string; madeAtMs: number }>();

  constructor(
    readonly keys: VapidKeys,
    private readonly subject: string,
    private readonly now: () => number = Date.now,
  ) {
    checkVapidSubject(subject);
    this.key = signingKey(keys);
    this.publicKeyText = Buffer.from(keys.publicKey).toString("base64url");
  }

  /** `vapid t=<JWT>, k=<public key>` for a request to `endpoint`. */
  authorization(endpoint: string): string {
    const audience = new URL(endpoint).origin;
    const nowMs = this.now();
    const cached = this.tokens.get(audience);
    if (cached && nowMs - cached.madeAtMs < TOKEN_REUSE_MS && nowMs >= cached.madeAtMs) return cached.header;
    const header = `vapid t=${this.token(audience, nowMs)}, k=${this.publicKeyText}`;
    // Push services are few (one per browser vendor); the map stays small, but a flood of made-up endpoints must not
    // grow it without bound.
    if (this.tokens.size >= 64) this.tokens.clear();
    this.tokens.set(audience, { header, madeAtMs: nowMs });
    return header;
  }

  private token(audience: string, nowMs: number): string {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const unsigned = `${part({ typ: "JWT", alg: "ES256" })}.${part({ aud: audience, exp: Math.floor((nowMs + TOKEN_LIFETIME_MS) / 1000), sub: this.subject })}`;
    // ES256 signatures in a JWT are r ‖ s (IEEE P1363), not DER.
    const signature = sign("sha256", Buffer.from(unsigned), { key: this.key, dsaEncoding: "ieee-p1363" });
    return `${unsigned}.${signature.toString("base64url")}`;
  }
}
