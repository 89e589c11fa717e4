// Shared fuzzing settings: every property runs from a printed seed (XMTP_FUZZ_SEED reproduces a run) with a
// bounded number of runs (XMTP_FUZZ_RUNS scales them) and a time budget, so the whole fuzz suite stays well under
// a minute in CI.
import fc from "fast-check";

const envSeed = process.env.XMTP_FUZZ_SEED;
export const FUZZ_SEED = envSeed !== undefined && envSeed !== "" ? Number(envSeed) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
if (!Number.isInteger(FUZZ_SEED)) throw new Error(`XMTP_FUZZ_SEED must be an integer, got ${JSON.stringify(envSeed)}`);
const RUNS_SCALE = Number(process.env.XMTP_FUZZ_RUNS_SCALE ?? "1");

let announced = false;

/** fast-check parameters for one property; `budgetMs` bounds its wall time (reaching it ends the run early). */
export function fuzzParameters<T>(name: string, numRuns: number, budgetMs = 8_000): fc.Parameters<T> {
  if (!announced) {
    announced = true;
    console.log(`[fuzz] seed=${FUZZ_SEED} (reproduce with XMTP_FUZZ_SEED=${FUZZ_SEED})`);
  }
  return {
    seed: FUZZ_SEED,
    numRuns: Math.max(1, Math.round(numRuns * RUNS_SCALE)),
    interruptAfterTimeLimit: budgetMs,
    markInterruptAsFailure: false,
    verbose: true,
    reporter: (details) => {
      if (details.failed) {
        throw new Error(`[fuzz] ${name} failed (seed ${FUZZ_SEED}):\n${fc.defaultReportMessage(details)}`);
      }
      console.log(`[fuzz] ${name}: ${details.numRuns} runs${details.interrupted ? " (time budget reached)" : ""}`);
    },
  };
}

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "delete"; at: number; length: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "truncate"; at: number }
  | { kind: "duplicate"; at: number; length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
);

function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
  if (bytes.length === 0) return m.kind === "insert" ? m.bytes : bytes;
  const at = m.at % bytes.length;
  const out = Array.from(bytes);
  switch (m.kind) {
    case "flip":
      out[at] ^= 1 << m.bit;
      break;
    case "set":
      out[at] = m.value;
      break;
    case "delete":
      out.splice(at, m.length);
      break;
    case "insert":
      out.splice(at, 0, ...m.bytes);
      break;
    case "truncate":
      out.length = at;
      break;
    case "duplicate":
      out.splice(at, 0, ...out.slice(at, at + m.length));
      break;
  }
  return Uint8Array.from(out);
}

/** `base` with 1 to `max` random byte-level mutations (bit flips, overwrites, cuts, insertions, repeats). */
export function mutatedBytes(base: Uint8Array, max = 4): fc.Arbitrary<Uint8Array> {
  return fc.array(mutation, { minLength: 1, maxLength: max }).map((ms) => ms.reduce(apply, base));
}

/** `text` (UTF-8) with random byte-level mutations, decoded back leniently. */
export function mutatedText(text: string, max = 4): fc.Arbitrary<string> {
  return mutatedBytes(new TextEncoder().encode(text), max).map((bytes) => new TextDecoder().decode(bytes));
}
