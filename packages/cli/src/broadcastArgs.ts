// `xmtp broadcast --to FILE TEXT...`: its options and their checks (the rest of the command line is args.ts's).
import { CliError } from "./errors.js";

export const DEFAULT_BROADCAST_CONCURRENCY = 8;
export const MAX_BROADCAST_CONCURRENCY = 64;
/** The resume file when --resume is not given: beside the --to file, named after it. */
export const RESUME_SUFFIX = ".broadcast.json";

export interface BroadcastCommand {
  name: "broadcast";
  /** The recipients file: one address per line. */
  to: string;
  /** The words after the options, joined with spaces; "-" reads standard input. */
  text: string;
  resume: string;
  concurrency: number;
}

/** The parseArgs options only broadcast takes. */
export const BROADCAST_OPTIONS = {
  to: { type: "string" },
  resume: { type: "string" },
  concurrency: { type: "string" },
} as const;

export const BROADCAST_USAGE =
  "xmtp broadcast --to FILE TEXT... [--resume STATE] [--concurrency N]  (FILE: one address per line, blank lines and\n" +
  `       # comments ignored; STATE defaults to FILE${RESUME_SUFFIX}; N from 1 to ${MAX_BROADCAST_CONCURRENCY}, default ${DEFAULT_BROADCAST_CONCURRENCY})`;

interface BroadcastValues {
  to?: string;
  resume?: string;
  concurrency?: string;
}

/** --to, --resume and --concurrency belong to broadcast alone. */
export function rejectBroadcastOptions(command: string, values: BroadcastValues): void {
  if (command === "broadcast") return;
  for (const option of Object.keys(BROADCAST_OPTIONS) as (keyof BroadcastValues)[]) {
    if (values[option] !== undefined) throw new CliError("USAGE", `--${option} only applies to "xmtp broadcast"`);
  }
}

/** `rest`: the positionals after "broadcast". */
export function parseBroadcastArgs(rest: string[], values: BroadcastValues): BroadcastCommand {
  if (values.to === undefined || values.to === "") throw new CliError("USAGE", `broadcast: missing --to FILE\nusage: ${BROADCAST_USAGE}`);
  if (rest.length === 0) throw new CliError("USAGE", `broadcast: missing TEXT\nusage: ${BROADCAST_USAGE}`);
  if (values.resume === "") throw new CliError("USAGE", "--resume must name a file");
  let concurrency = DEFAULT_BROADCAST_CONCURRENCY;
  if (values.concurrency !== undefined) {
    concurrency = Number(values.concurrency);
    if (!/^\d+$/.test(values.concurrency) || concurrency < 1 || concurrency > MAX_BROADCAST_CONCURRENCY) {
      throw new CliError("USAGE", `--concurrency must be a whole number from 1 to ${MAX_BROADCAST_CONCURRENCY}, got ${JSON.stringify(values.concurrency)}`);
    }
  }
  return { name: "broadcast", to: values.to, text: rest.join(" "), resume: values.resume ?? values.to + RESUME_SUFFIX, concurrency };
}
