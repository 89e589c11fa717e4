// `xmtp-node snapshot create|restore`: a node's store into a snapshot file and back (docs/storage.md §6). The node's
// own options and XMTP_* variables find the store, exactly as the node would.
import { existsSync } from "node:fs";
import { ConfigError, describeStorage, parseCommandLine, type NodeConfig } from "../config.js";
import { readNodePeerId } from "../p2p/nodeKey.js";
import type { EnvelopeStore } from "../store/EnvelopeStore.js";
import { splitSubcommandArguments } from "../subcommandArguments.js";
import { createSnapshot } from "./createSnapshot.js";
import { restoreSnapshot } from "./restoreSnapshot.js";
import { SnapshotError } from "./snapshotFormat.js";
import { openSqliteSnapshotSource, storeSnapshotSource, type SnapshotSource } from "./snapshotSource.js";
import { sqliteFileSnapshotTarget, storeSnapshotTarget } from "./snapshotTarget.js";
import { wakuHasherFor } from "../waku/messageHash.js";

export const SNAPSHOT_COMMAND_USAGE = `Usage:
  xmtp-node snapshot create --out FILE [--quiet] [node options]
  xmtp-node snapshot restore FILE [--quiet] [node options]

create: writes a consistent, compressed, checksummed snapshot of the node's store (--data-dir or --db) to FILE,
while the node may keep running. Written to FILE.partial and renamed when complete.
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

const OWN_FLAGS = new Set(["--quiet", "--help", "-h", "--out"]);

export async function runSnapshotCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: SnapshotCommandIo,
): Promise<number> {
  const usageError = (message: string) => {
    io.stderr(`xmtp-node snapshot: ${message}\n\n${SNAPSHOT_COMMAND_USAGE}`);
    return 2;
  };
  // --out takes a value, which splitSubcommandArguments would leave among the words.
  let out: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out") {
      if (i + 1 >= argv.length) return usageError("--out needs a file name");
      out = argv[++i];
    } else if (argv[i].startsWith("--out=")) {
      out = argv[i].slice("--out=".length);
    } else {
      rest.push(argv[i]);
    }
  }
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
  const open = io.openStore ?? (async (c: NodeConfig) => (await import("../server.js")).openConfiguredStore(c));
  const intervalMs = io.progressIntervalMs ?? 1_000;
  let lastProgress = performance.now();
  const progress = (what: string, done: number, total: number) => {
    if (quiet || performance.now() - lastProgress < intervalMs) return;
    lastProgress = performance.now();
    io.stderr(`xmtp-node snapshot: ${what} ${done.toLocaleString("en-US")} / ${total.toLocaleString("en-US")} envelopes\n`);
  };
  try {
    if (action === "create") return await create(config, out!, io, open, progress);
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
  io: SnapshotCommandIo,
  open: (config: NodeConfig) => Promise<EnvelopeStore>,
  progress: (what: string, done: number, total: number) => void,
): Promise<number> {
  let source: SnapshotSource;
  if (config.storage.kind === "sqlite") {
    // Read-only, beside the running node; never creates an empty database where a mistyped --data-dir points.
    if (!existsSync(config.storage.path)) {
      io.stderr(`xmtp-node snapshot: there is no node database at ${config.storage.path} (check --data-dir or --db)\n`);
      return 1;
    }
    source = openSqliteSnapshotSource(config.storage.path);
  } else {
    source = storeSnapshotSource(await open(config), "postgres");
  }
  let peerId: string | undefined;
  try {
    peerId = await readNodePeerId(config.dataDir);
  } catch (error) {
    io.stderr(`xmtp-node snapshot: the node key in ${config.dataDir} is unreadable (${String(error)}); the snapshot names no source node\n`);
  }
  try {
    const summary = await createSnapshot({ source, out, sourcePeerId: peerId, onProgress: (done, total) => progress("read", done, total) });
    const seconds = summary.durationMs / 1000;
    io.stdout(
      `snapshot of ${describeStorage(config.storage)} written to ${out}: ${summary.envelopeCount.toLocaleString("en-US")} envelopes ` +
        `up to sequence ${summary.headSequence}, ${summary.fileBytes.toLocaleString("en-US")} bytes, ${seconds.toFixed(2)} s` +
        ` (${Math.round(summary.envelopeCount / Math.max(seconds, 0.001)).toLocaleString("en-US")} envelopes/s)` +
        (peerId ? `, source peer ${peerId}` : ", no source peer id (no node-key in the data directory)") +
        "\n",
    );
    return 0;
  } finally {
    await source.close();
  }
}

async function restore(
  config: NodeConfig,
  file: string,
  io: SnapshotCommandIo,
  open: (config: NodeConfig) => Promise<EnvelopeStore>,
  progress: (what: string, done: number, total: number) => void,
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
    onProgress: (phase, done, total) => progress(phase === "verify" ? "verified" : "restored", done, total),
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
