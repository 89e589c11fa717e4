// `xmtp-node snapshot create|restore`: a node's store into a snapshot file and back (docs/storage.md §6). The node's
// own options and XMTP_* variables find the store, exactly as the node would.
import { existsSync } from "node:fs";
import { ConfigError, describeStorage, parseCommandLine, type NodeConfig } from "../config.js";
import { readNodePeerId } from "../p2p/nodeKey.js";
import type { EnvelopeStore } from "../store/EnvelopeStore.js";
import { splitSubcommandArguments } from "../subcommandArguments.js";
import { createDatabaseSnapshot } from "./createDatabaseSnapshot.js";
import { createSnapshot, type SnapshotSummary } from "./createSnapshot.js";
import { restoreSnapshot } from "./restoreSnapshot.js";
import { SnapshotError } from "./snapshotFormat.js";
import { openSqliteSnapshotSource, storeSnapshotSource, type SnapshotSource } from "./snapshotSource.js";
import { sqliteFileSnapshotTarget, storeSnapshotTarget } from "./snapshotTarget.js";
import { wakuHasherFor } from "../waku/messageHash.js";

export const SNAPSHOT_COMMAND_USAGE = `Usage:
  xmtp-node snapshot create --out FILE [--format pages|records] [--quiet] [node options]
  xmtp-node snapshot restore FILE [--quiet] [node options]

create: writes a consistent, checksummed snapshot of the node's store (--data-dir or --db) to FILE, while the node
may keep running. Written to FILE.partial and renamed when complete. --format pages (the default for SQLite) copies
the database file itself, which a new SQLite data directory restores many times faster; --format records (the only
one for PostgreSQL) writes compressed envelope records, smaller, and readable by nodes older than the page format.
Both restore into SQLite and PostgreSQL.
restore: checks the whole of FILE first, then fills an empty store (--data-dir or --db) with it. When the snapshot
names its source node, catch-up from that node (--peer) then starts where the snapshot ends.
  xmtp-node snapshot create --data-dir ./data --out node.snapshot
  xmtp-node snapshot restore node.snapshot --data-dir ./restored
`;

export interface SnapshotCommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Opens the store the configuration names (restore's target, and create's PostgreSQL source); defaults to the node's own way. */
  openStore?(config: NodeConfig): Promise<EnvelopeStore>;
  /** Progress lines at most this often (default 1,000 ms). */
  progressIntervalMs?: number;
}

const OWN_FLAGS = new Set(["--quiet", "--help", "-h", "--out", "--format"]);

export async function runSnapshotCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: SnapshotCommandIo,
): Promise<number> {
  const usageError = (message: string) => {
    io.stderr(`xmtp-node snapshot: ${message}\n\n${SNAPSHOT_COMMAND_USAGE}`);
    return 2;
  };
  // --out and --format take a value, which splitSubcommandArguments would leave among the words.
  const values: Record<"--out" | "--format", string | undefined> = { "--out": undefined, "--format": undefined };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = (["--out", "--format"] as const).find((f) => argv[i] === f || argv[i].startsWith(`${f}=`));
    if (flag === undefined) {
      rest.push(argv[i]);
    } else if (argv[i] === flag) {
      if (i + 1 >= argv.length) return usageError(`${flag} needs a value`);
      values[flag] = argv[++i];
    } else {
      values[flag] = argv[i].slice(flag.length + 1);
    }
  }
  const out = values["--out"];
  const format = values["--format"];
  if (format !== undefined && format !== "pages" && format !== "records") return usageError(`--format is "pages" or "records", not ${JSON.stringify(format)}`);
  const { commandArgs, nodeArgs } = splitSubcommandArguments(rest, OWN_FLAGS);
  if (commandArgs.includes("--help") || commandArgs.includes("-h")) {
    io.stdout(SNAPSHOT_COMMAND_USAGE);
    return 0;
  }
  const quiet = commandArgs.includes("--quiet");
  const words = commandArgs.filter((arg) => !OWN_FLAGS.has(arg));
  const [action, ...operands] = words;
  if (action === "create") {
    if (operands.length > 0) return usageError(`create takes no file operand (use --out), got ${JSON.stringify(operands.join(" "))}`);
    if (!out) return usageError("create needs --out FILE");
  } else if (action === "restore") {
    if (operands.length !== 1) return usageError("restore takes exactly one snapshot file");
    if (out !== undefined) return usageError("--out belongs to create; restore reads the FILE it is given");
    if (format !== undefined) return usageError("--format belongs to create; restore reads either format");
  } else {
    return usageError(`expected "create" or "restore", got ${JSON.stringify(words.join(" "))}`);
  }
  let config: NodeConfig;
  try {
    const parsed = parseCommandLine(nodeArgs, env);
    if (parsed.help) {
      io.stdout(SNAPSHOT_COMMAND_USAGE);
      return 0;
    }
    config = parsed.config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return usageError(error.message);
  }
  if (format === "pages" && config.storage.kind !== "sqlite") return usageError("--format pages copies a SQLite database file; a PostgreSQL store is snapshotted as records");
  const open = io.openStore ?? (async (c: NodeConfig) => (await import("../server.js")).openConfiguredStore(c));
  const intervalMs = io.progressIntervalMs ?? 1_000;
  let lastProgress = performance.now();
  const progress = (what: string, done: number, total: number, unit: "envelopes" | "bytes" = "envelopes") => {
    if (quiet || performance.now() - lastProgress < intervalMs) return;
    lastProgress = performance.now();
    const amount =
      unit === "bytes"
        ? `${(done / 1048576).toLocaleString("en-US", { maximumFractionDigits: 1 })} / ${(total / 1048576).toLocaleString("en-US", { maximumFractionDigits: 1 })} MiB`
        : `${done.toLocaleString("en-US")} / ${total.toLocaleString("en-US")} envelopes`;
    io.stderr(`xmtp-node snapshot: ${what} ${amount}\n`);
  };
  try {
    if (action === "create") return await create(config, out!, format ?? (config.storage.kind === "sqlite" ? "pages" : "records"), io, open, progress);
    return await restore(config, operands[0], io, open, progress);
  } catch (error) {
    if (error instanceof SnapshotError) {
      io.stderr(`xmtp-node snapshot: ${error.message} [${error.code}]\n`);
      return 1;
    }
    io.stderr(`xmtp-node snapshot: ${(error as Error)?.message ?? String(error)}\n`);
    return 1;
  }
}

async function create(
  config: NodeConfig,
  out: string,
  format: "pages" | "records",
  io: SnapshotCommandIo,
  open: (config: NodeConfig) => Promise<EnvelopeStore>,
  progress: (what: string, done: number, total: number, unit?: "envelopes" | "bytes") => void,
): Promise<number> {
  // Read-only, beside the running node; never creates an empty database where a mistyped --data-dir points.
  if (config.storage.kind === "sqlite" && !existsSync(config.storage.path)) {
    io.stderr(`xmtp-node snapshot: there is no node database at ${config.storage.path} (check --data-dir or --db)\n`);
    return 1;
  }
  let peerId: string | undefined;
  try {
    peerId = await readNodePeerId(config.dataDir);
  } catch (error) {
    io.stderr(`xmtp-node snapshot: the node key in ${config.dataDir} is unreadable (${String(error)}); the snapshot names no source node\n`);
  }
  let summary: SnapshotSummary;
  if (format === "pages" && config.storage.kind === "sqlite") {
    summary = await createDatabaseSnapshot({
      databasePath: config.storage.path,
      out,
      sourcePeerId: peerId,
      onProgress: (phase, done, total) => progress(phase === "copy" ? "copied" : "written", done, total, "bytes"),
    });
  } else {
    const source: SnapshotSource =
      config.storage.kind === "sqlite" ? openSqliteSnapshotSource(config.storage.path) : storeSnapshotSource(await open(config), "postgres");
    try {
      summary = await createSnapshot({ source, out, sourcePeerId: peerId, onProgress: (done, total) => progress("read", done, total) });
    } finally {
      await source.close();
    }
  }
  const seconds = summary.durationMs / 1000;
  io.stdout(
    `snapshot of ${describeStorage(config.storage)} written to ${out}: ${summary.envelopeCount.toLocaleString("en-US")} envelopes ` +
      `up to sequence ${summary.headSequence}, ${summary.fileBytes.toLocaleString("en-US")} bytes (${format === "pages" ? "database pages" : "records"}), ${seconds.toFixed(2)} s` +
      ` (${Math.round(summary.envelopeCount / Math.max(seconds, 0.001)).toLocaleString("en-US")} envelopes/s)` +
      (peerId ? `, source peer ${peerId}` : ", no source peer id (no node-key in the data directory)") +
      "\n",
  );
  return 0;
}

async function restore(
  config: NodeConfig,
  file: string,
  io: SnapshotCommandIo,
  open: (config: NodeConfig) => Promise<EnvelopeStore>,
  progress: (what: string, done: number, total: number, unit?: "envelopes" | "bytes") => void,
): Promise<number> {
  if (!existsSync(file)) {
    io.stderr(`xmtp-node snapshot: there is no snapshot file at ${file}\n`);
    return 1;
  }
  // A data directory without a database gets one loaded in bulk and put in place when complete; an existing database
  // (even an empty one: a node may have it open) and PostgreSQL are filled through the store.
  const target =
    config.storage.kind === "sqlite" && !existsSync(config.storage.path)
      ? sqliteFileSnapshotTarget(config.storage.path, { wakuHasher: wakuHasherFor(config) })
      : storeSnapshotTarget(() => open(config));
  const summary = await restoreSnapshot({
    path: file,
    target,
    dataDir: config.dataDir,
    onProgress: (phase, done, total) =>
      phase === "unpack" ? progress("unpacked", done, total, "bytes") : progress(phase === "verify" ? "verified" : "restored", done, total),
  });
  const seconds = summary.durationMs / 1000;
  io.stdout(
    `restored ${summary.envelopeCount.toLocaleString("en-US")} envelopes into ${describeStorage(config.storage)} in ${seconds.toFixed(2)} s` +
      ` (${Math.round(summary.envelopeCount / Math.max(seconds, 0.001)).toLocaleString("en-US")} envelopes/s)` +
      (summary.syncPosition
        ? `; catch-up from ${summary.syncPosition.peerId} starts after its sequence ${summary.syncPosition.sequence}`
        : "; the snapshot names no source node: catch-up from any peer starts from the beginning") +
      "\n",
  );
  return 0;
}
