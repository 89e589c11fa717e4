// `xmtp broadcast --to FILE TEXT...`: one message to every address in FILE through client.broadcast, with progress
// (a bar on a terminal, JSON lines with --json), a resume file, and a final report (README "Broadcast").
import { readFileSync } from "node:fs";
import {
  BroadcastInterruptedError,
  BroadcastResumeMismatchError,
  BroadcastStateError,
  Client,
  type BroadcastProgress,
  type BroadcastReport,
} from "@xmtp-ts/client";
import type { GlobalOptions } from "./args.js";
import type { BroadcastCommand } from "./broadcastArgs.js";
import { parseRecipients } from "./broadcastRecipients.js";
import { CliError, ExitCode } from "./errors.js";
import { ProgressLine } from "./format.js";
import { loadIdentity } from "./identity.js";
import { inboxDatabaseFor } from "./inboxDatabase.js";
import type { CliIo } from "./run.js";
import { privateKeySigner } from "./signer.js";

/** The exit code of an interrupted broadcast (as for a shell's Ctrl-C): run the same command again to go on. */
export const BROADCAST_INTERRUPTED_EXIT = 130;
/** At most this many invalid lines are listed. */
const MAX_INVALID_SHOWN = 20;
/** --json progress lines at most this often (and at every change of phase, and the last one). */
const JSON_PROGRESS_MS = 250;

function readRecipients(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (err as Error).message;
    throw new CliError("USAGE", `broadcast: cannot read --to ${file}: ${why}`, { cause: err });
  }
  const { addresses, invalid } = parseRecipients(text);
  if (invalid.length > 0) {
    const shown = invalid.slice(0, MAX_INVALID_SHOWN).map((l) => `  ${file}:${l.line}: ${JSON.stringify(l.text)} is ${l.problem}`);
    const more = invalid.length > MAX_INVALID_SHOWN ? [`  ... and ${invalid.length - MAX_INVALID_SHOWN} more`] : [];
    throw new CliError(
      "USAGE",
      `broadcast: ${invalid.length} line${invalid.length === 1 ? "" : "s"} of ${file} ${invalid.length === 1 ? "is" : "are"} not an address; nothing was sent:\n` +
        [...shown, ...more].join("\n"),
      { details: { invalidLines: invalid } },
    );
  }
  if (addresses.length === 0) throw new CliError("USAGE", `broadcast: ${file} lists no addresses; nothing was sent`);
  return addresses;
}

function progressText(p: BroadcastProgress): string {
  if (p.phase === "checking") return `checked ${p.checked}/${p.total} recipients (${p.notOnNetwork} not on the network)`;
  const extra = [
    p.alreadySent > 0 ? `${p.alreadySent} earlier` : "",
    p.recovered > 0 ? `${p.recovered} found sent` : "",
    p.notOnNetwork > 0 ? `${p.notOnNetwork} not on the network` : "",
    p.failed > 0 ? `${p.failed} failed` : "",
    p.rateLimited > 0 ? `${p.rateLimited} rate-limit waits` : "",
  ].filter(Boolean);
  return `${p.done}/${p.total}: ${p.sent} sent${extra.length ? ", " + extra.join(", ") : ""}`;
}

/** Reports progress: JSON lines on stdout with --json, else the export/import progress line on stderr. */
function progressReporter(io: CliIo, json: boolean): { update(p: BroadcastProgress): void; end(): void } {
  if (json) {
    let last = Number.NEGATIVE_INFINITY;
    let phase = "";
    return {
      update(p) {
        const now = Date.now();
        if (p.phase === phase && p.done < p.total && now - last < JSON_PROGRESS_MS) return;
        last = now;
        phase = p.phase;
        io.stdout(JSON.stringify({ event: "progress", ...p }) + "\n");
      },
      end() {},
    };
  }
  const line = new ProgressLine((text) => io.stderr(text), io.stderrIsTTY === true);
  return {
    update: (p) => line.update(p.phase === "checking" ? "checking" : "sending", p.done, p.total, progressText(p), p.phase === "done"),
    end: () => line.end(),
  };
}

function exitCodeOf(report: BroadcastReport): number {
  if (report.failed.length > 0) return ExitCode.NODE_ERROR;
  if (report.notOnNetwork.length > 0) return ExitCode.NOT_ON_NETWORK;
  return ExitCode.OK;
}

function printReport(io: CliIo, json: boolean, report: BroadcastReport, resumeFile: string, interrupted: boolean): void {
  if (json) {
    io.stdout(
      JSON.stringify({
        event: "report",
        interrupted,
        broadcastId: report.broadcastId,
        total: report.total,
        sent: report.sent.length,
        sentThisRun: report.sentThisRun,
        alreadySent: report.alreadySent,
        recovered: report.recovered,
        notOnNetwork: report.notOnNetwork,
        failed: report.failed,
        rateLimited: report.rateLimited,
        resumeFile,
      }) + "\n",
    );
    return;
  }
  const out = (text: string) => io.stdout(text + "\n");
  const how = [`${report.sentThisRun} now`, `${report.alreadySent} by an earlier run`];
  if (report.recovered > 0) how.push(`${report.recovered} found sent after an interruption`);
  out(`${interrupted ? "interrupted: " : ""}sent to ${report.sent.length} of ${report.total} recipients (${how.join(", ")})`);
  if (report.notOnNetwork.length > 0) {
    out(`not on the network (${report.notOnNetwork.length}):`);
    for (const address of report.notOnNetwork) out(`  ${address}`);
  }
  if (report.failed.length > 0) {
    out(`failed (${report.failed.length}):`);
    for (const failure of report.failed) out(`  ${failure.address}: ${failure.reason}`);
  }
  if (report.rateLimited > 0) out(`the node rate-limited ${report.rateLimited} requests; each was waited out and retried`);
  out(
    interrupted || report.failed.length > 0
      ? `resume state: ${resumeFile} (run the same command again to go on; nobody gets a second copy)`
      : `resume state: ${resumeFile} (running the same command again sends nothing more)`,
  );
}

export async function broadcastCommand(io: CliIo, options: GlobalOptions, command: BroadcastCommand): Promise<number> {
  const addresses = readRecipients(command.to);
  const text = command.text === "-" ? (await io.readStdin()).replace(/\r?\n$/, "") : command.text;
  if (text.length === 0) throw new CliError("USAGE", "broadcast: TEXT is empty; there is nothing to send");
  const { identity, keyFile } = loadIdentity(options.keyFile, io.env);
  const client = await Client.create(privateKeySigner(identity), {
    apiUrl: options.apiUrl,
    dbPath: inboxDatabaseFor(keyFile, identity.address, options.apiUrl),
  });
  const progress = progressReporter(io, options.json);
  let report: BroadcastReport;
  let interrupted = false;
  try {
    report = await client.broadcast(addresses, text, {
      resumeFile: command.resume,
      concurrency: command.concurrency,
      signal: io.interrupt,
      onProgress: (p) => progress.update(p),
    });
  } catch (err) {
    if (err instanceof BroadcastInterruptedError) {
      report = err.report;
      interrupted = true;
    } else if (err instanceof BroadcastResumeMismatchError) {
      throw new CliError(
        "USAGE",
        `broadcast: ${command.resume} ${err.field === "content" ? "records a broadcast of another text" : "records a broadcast by another identity"}; ` +
          `nothing was sent. Give this broadcast its own state with --resume FILE [${err.code}]`,
        { cause: err },
      );
    } else if (err instanceof BroadcastStateError) {
      throw new CliError("USAGE", `broadcast: ${err.message}; nothing more was sent [${err.code}]`, { cause: err });
    } else {
      throw err;
    }
  } finally {
    progress.end();
    await client.close();
  }
  printReport(io, options.json, report, command.resume, interrupted);
  return interrupted ? BROADCAST_INTERRUPTED_EXIT : exitCodeOf(report);
}
