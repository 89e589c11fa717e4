// `xmtp-node retention report`: what the configured policy (--retention or XMTP_RETENTION, as the node reads it)
// would delete from this node's store now, per topic class, without deleting anything (docs/storage.md).
import { existsSync } from "node:fs";
import { ConfigError, parseCommandLine, type NodeConfig } from "../config.js";
import type { EnvelopeStore, PruneResult } from "../store/EnvelopeStore.js";
import { splitSubcommandArguments } from "../subcommandArguments.js";
import { describeRetention, retentionRuleOf, TOPIC_CLASS_NAMES, type TopicClass } from "./retentionPolicy.js";

export const RETENTION_COMMAND_USAGE = `Usage: xmtp-node retention report [--json] [node options]

Shows what the retention policy would delete from this node's store now, per topic class, without deleting
anything. The node's own options and XMTP_* variables find the store and the policy, exactly as the node would:
  xmtp-node retention report --data-dir ./data --retention v2-messages=365d,contact=newest:5
`;

export interface RetentionCommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Opens the store the configuration names; defaults to the node's own way. */
  openStore?(config: NodeConfig): Promise<EnvelopeStore>;
  /** Now, in nanoseconds since the epoch (tests inject it). */
  nowNs?(): bigint;
}

export interface RetentionReportRow {
  class: TopicClass;
  retention: string;
  /** Absent for classes kept forever. */
  prunable?: PruneResult;
}

const OWN_FLAGS = new Set(["--json", "--help", "-h"]);

export async function runRetentionCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: RetentionCommandIo,
): Promise<number> {
  const { commandArgs, nodeArgs } = splitSubcommandArguments(argv, OWN_FLAGS);
  if (commandArgs.includes("--help") || commandArgs.includes("-h")) {
    io.stdout(RETENTION_COMMAND_USAGE);
    return 0;
  }
  const json = commandArgs.includes("--json");
  const words = commandArgs.filter((arg) => !OWN_FLAGS.has(arg));
  if (words.length !== 1 || words[0] !== "report") {
    io.stderr(`xmtp-node retention: expected "report", got ${JSON.stringify(words.join(" "))}\n\n${RETENTION_COMMAND_USAGE}`);
    return 2;
  }
  let config: NodeConfig;
  try {
    const parsed = parseCommandLine(nodeArgs, env);
    if (parsed.help) {
      io.stdout(RETENTION_COMMAND_USAGE);
      return 0;
    }
    config = parsed.config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`xmtp-node retention: ${error.message}\n`);
    return 2;
  }
  // A report reads; it never creates an empty database where a mistyped --data-dir points.
  if (config.storage.kind === "sqlite" && !existsSync(config.storage.path)) {
    io.stderr(`xmtp-node retention: there is no node database at ${config.storage.path} (check --data-dir or --db)\n`);
    return 1;
  }
  const open = io.openStore ?? (async (c: NodeConfig) => (await import("../server.js")).openConfiguredStore(c));
  const store = await open(config);
  try {
    const nowNs = io.nowNs?.() ?? BigInt(Date.now()) * 1_000_000n;
    const rows: RetentionReportRow[] = [];
    for (const name of TOPIC_CLASS_NAMES) {
      const rule = retentionRuleOf(config.retention.policy, name, nowNs);
      rows.push({
        class: name,
        retention: describeRetention(config.retention.policy[name]),
        prunable: rule && (await store.countPrunable(rule)),
      });
    }
    io.stdout(json ? JSON.stringify({ rows }) + "\n" : formatReport(rows));
    return 0;
  } finally {
    await store.close();
  }
}

export function formatReport(rows: readonly RetentionReportRow[]): string {
  const total = rows.reduce(
    (sum, row) => ({ envelopes: sum.envelopes + (row.prunable?.envelopes ?? 0), messageBytes: sum.messageBytes + (row.prunable?.messageBytes ?? 0) }),
    { envelopes: 0, messageBytes: 0 },
  );
  const table = [
    ["class", "retention", "would delete", "message bytes"],
    ...rows.map((row) => [
      row.class,
      row.retention,
      row.prunable ? row.prunable.envelopes.toLocaleString("en-US") : "-",
      row.prunable ? formatBytes(row.prunable.messageBytes) : "-",
    ]),
    ["total", "", total.envelopes.toLocaleString("en-US"), formatBytes(total.messageBytes)],
  ];
  const widths = table[0].map((_, column) => Math.max(...table.map((line) => line[column].length)));
  const lines = table.map((line) =>
    line.map((cell, column) => (column >= 2 ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join("  ").trimEnd(),
  );
  return lines.join("\n") + "\nNothing was deleted: the node's pruner applies the policy while it runs.\n";
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
