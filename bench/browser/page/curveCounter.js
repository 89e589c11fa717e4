// A back end whose curve counts and times its calls: how many curve operations a listing really makes, and how
// much of its wall time they take, measured inside the listing rather than in a loop of their own.

/** @typedef {"ecdhPoint" | "recoverPublicKey" | "verifyDigest" | "signDigest" | "publicKey" | "isValidPublicKey"} CurveOperation */
/** @typedef {Record<CurveOperation, { count: number; ms: number }>} CurveCalls */

/** @type {CurveOperation[]} */
const OPERATIONS = ["ecdhPoint", "recoverPublicKey", "verifyDigest", "signDigest", "publicKey", "isValidPublicKey"];

/**
 * @param {import("@xmtp-ts/crypto").CryptoBackend} backend
 * @returns {{ backend: import("@xmtp-ts/crypto").CryptoBackend; calls: CurveCalls }}
 */
export function countingBackend(backend) {
  const calls = /** @type {CurveCalls} */ (Object.fromEntries(OPERATIONS.map((name) => [name, { count: 0, ms: 0 }])));
  const curve = Object.create(backend.curve);
  for (const name of OPERATIONS) {
    /** @type {Function} */
    const operation = backend.curve[name];
    curve[name] = (/** @type {unknown[]} */ ...args) => {
      const started = performance.now();
      try {
        return operation.apply(backend.curve, args);
      } finally {
        calls[name].count++;
        calls[name].ms += performance.now() - started;
      }
    };
  }
  return { backend: { ...backend, curve }, calls };
}
