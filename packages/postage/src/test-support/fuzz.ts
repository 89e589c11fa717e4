// Fuzzing settings shared by this package's properties, on the same knobs as the rest of the repository:
// XMTP_FUZZ_SEED replays a run (the seed is printed), XMTP_FUZZ_RUNS_SCALE scales the number of runs, and each
// property stops at a time budget so the suite stays fast on a small CI machine.
import fc from "fast-check";

function seedFromEnvironment(): number {
  const text = process.env.XMTP_FUZZ_SEED;
  if (text === undefined || text === "") return (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const seed = Number(text);
  if (!Number.isInteger(seed)) throw new Error(`XMTP_FUZZ_SEED must be an integer, got ${JSON.stringify(text)}`);
  return seed;
}

export const POSTAGE_FUZZ_SEED = seedFromEnvironment();
const runsScale = Number(process.env.XMTP_FUZZ_RUNS_SCALE ?? "1");
let seedPrinted = false;

export function postageFuzzParameters<T>(name: string, numRuns: number, budgetMs = 5_000): fc.Parameters<T> {
  if (!seedPrinted) {
    seedPrinted = true;
    console.log(`[fuzz] seed=${POSTAGE_FUZZ_SEED} (reproduce with XMTP_FUZZ_SEED=${POSTAGE_FUZZ_SEED})`);
  }
  return {
    seed: POSTAGE_FUZZ_SEED,
    numRuns: Math.max(1, Math.round(numRuns * runsScale)),
    interruptAfterTimeLimit: budgetMs,
    markInterruptAsFailure: false,
    verbose: true,
    reporter: (details) => {
      if (details.failed) {
        throw new Error(`[fuzz] ${name} failed (seed ${POSTAGE_FUZZ_SEED}):\n${fc.defaultReportMessage(details)}`, {
          cause: details.errorInstance,
        });
      }
    },
  };
}

/** One byte-level edit: overwrite a byte, flip a bit, cut the tail, drop or insert a few bytes. */
const edit = fc.oneof(
  fc.tuple(fc.constant("set" as const), fc.nat(), fc.integer({ min: 0, max: 255 })),
  fc.tuple(fc.constant("flip" as const), fc.nat(), fc.integer({ min: 0, max: 7 })),
  fc.tuple(fc.constant("cut" as const), fc.nat(), fc.constant(0)),
  fc.tuple(fc.constant("drop" as const), fc.nat(), fc.integer({ min: 1, max: 8 })),
  fc.tuple(fc.constant("insert" as const), fc.nat(), fc.integer({ min: 0, max: 255 })),
);

function applyEdit(bytes: Uint8Array, [kind, position, value]: [string, number, number]): Uint8Array {
  const out = Array.from(bytes);
  const at = out.length === 0 ? 0 : position % out.length;
  if (kind === "set" && out.length > 0) out[at] = value;
  else if (kind === "flip" && out.length > 0) out[at] ^= 1 << value;
  else if (kind === "cut") out.length = at;
  else if (kind === "drop") out.splice(at, value);
  else if (kind === "insert") out.splice(at, 0, value);
  return Uint8Array.from(out);
}

/** `base` after one to `max` random edits. */
export function editedBytes(base: Uint8Array, max = 4): fc.Arbitrary<Uint8Array> {
  return fc.array(edit, { minLength: 1, maxLength: max }).map((edits) => edits.reduce(applyEdit, base));
}
