// `xmtp broadcast`: the real binary against a real node. A thousand recipients (identities whose contacts are
// published directly), the CLI killed with SIGKILL halfway, run again: each recipient holds exactly one copy.
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, FileStateStore } from "@xmtp-ts/client";
import { startNode, type RunningNode } from "../../../test/support/runningNode.js";
import { deliveriesBySender, publishedIdentities, strangers } from "../../client/test/broadcast/support.js";
import { ExitCode } from "../src/errors.js";
import { assertCliBuilt, cliBinary, CliUser, LineReader, type CliResult } from "./support.js";

const RECIPIENTS = Math.max(1000, Number(process.env.XMTP_TEST_BROADCAST_RECIPIENTS ?? 1000));
/** A hang guard for one long CLI run, not a speed assertion. */
const LONG_RUN_GUARD_MS = 600_000;

let node: RunningNode;
const users: CliUser[] = [];

beforeAll(async () => {
  assertCliBuilt();
  node = await startNode({ args: ["--publish-rate", "100000", "--publish-burst", "100000"] });
});
afterAll(async () => {
  for (const u of users) u.dispose();
  await node?.dispose();
});

/** Runs the CLI to the end with a guard long enough for a thousand sends on a slow machine. */
function runLong(user: CliUser, args: string[]): Promise<CliResult> {
  const child = spawn(process.execPath, [cliBinary, ...args], { env: user.env(), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`xmtp ${args.join(" ")} did not finish\n${stdout}\n${stderr}`));
    }, LONG_RUN_GUARD_MS);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

function newUser(wallet: { privateKey: string }): CliUser {
  const user = new CliUser(node.url, { XMTP_PRIVATE_KEY: wallet.privateKey });
  users.push(user);
  return user;
}

describe("xmtp broadcast", () => {
  it("killed with SIGKILL halfway and run again: each recipient gets exactly one copy", { timeout: 1_200_000 }, async () => {
    const wallet = Wallet.createRandom();
    const user = newUser(wallet);
    await user.ok(["init"]);
    const recipients = (await publishedIdentities(node.url, RECIPIENTS)).map((k) => k.walletAddress);
    const absent = strangers(3);
    const to = join(user.home, "community.txt");
    writeFileSync(
      to,
      ["# the community, exported 2026-12-05", "", ...recipients.slice(0, 10).map((a) => a.toLowerCase()), ...recipients.slice(10), `${absent[0]}  # left`, ...absent.slice(1), ""].join("\n"),
    );
    const text = ["gm", "community,", "one", "copy", "each"];
    const resumeFile = `${to}.broadcast.json`;

    // First run: JSON progress lines; killed (no chance to clean up) once half the recipients were sent.
    const child = user.spawn(["broadcast", "--to", to, ...text, "--json"]);
    const lines = new LineReader(child.stdout!);
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    await lines.waitFor((line) => JSON.parse(line).sent >= RECIPIENTS / 2, "half the recipients sent", LONG_RUN_GUARD_MS);
    child.kill("SIGKILL");
    await exited;
    const progress = lines.lines.map((line) => JSON.parse(line) as { event: string; phase: string; sent: number; total: number });
    expect(progress.every((p) => p.event === "progress")).toBe(true);
    expect(progress[0].total).toBe(RECIPIENTS + absent.length);
    const killedState = await new FileStateStore(resumeFile).load();
    const statuses = [...killedState!.recipients.values()].map((r) => r.status);
    const sentBeforeKill = statuses.filter((s) => s === "sent").length;
    expect(sentBeforeKill).toBeGreaterThanOrEqual(RECIPIENTS / 2);
    expect(sentBeforeKill).toBeLessThan(RECIPIENTS);
    // Bounded concurrency: at most 8 sends (the default) were in doubt when the process died.
    const inDoubt = statuses.filter((s) => s === "pending").length;
    expect(inDoubt).toBeLessThanOrEqual(8);

    // Second run, the same command without --json: progress lines on stderr (not a terminal), the report on stdout.
    const resumed = await runLong(user, ["broadcast", "--to", to, ...text]);
    expect(resumed.code, resumed.stderr).toBe(ExitCode.NOT_ON_NETWORK);
    expect(resumed.stdout).toContain(`sent to ${RECIPIENTS} of ${RECIPIENTS + absent.length} recipients`);
    expect(resumed.stdout).toContain(`${sentBeforeKill} by an earlier run`);
    // Whatever was in doubt was either found on the network or sent now: the counts add up to everyone.
    const now = Number(/\((\d+) now/.exec(resumed.stdout)?.[1]);
    const found = Number(/(\d+) found sent after an interruption/.exec(resumed.stdout)?.[1] ?? 0);
    expect(now + found + sentBeforeKill).toBe(RECIPIENTS);
    expect(found).toBeLessThanOrEqual(inDoubt);
    expect(resumed.stdout).toContain(`not on the network (${absent.length}):`);
    for (const address of absent) expect(resumed.stdout).toContain(address);
    expect(resumed.stderr).toMatch(/^sending: \d+\/\d+: \d+ sent/m);

    // Exactly once, counted on the network.
    const deliveries = await deliveriesBySender(await Client.create(wallet, { apiUrl: node.url }));
    const wrong = recipients.filter((a) => {
      const d = deliveries.get(a.toLowerCase());
      return d?.conversations !== 1 || d.envelopes !== 1;
    });
    expect(wrong).toEqual([]);
    expect(deliveries.size).toBe(RECIPIENTS);

    // A third run sends nothing; its JSON report says so.
    const third = await runLong(user, ["broadcast", "--to", to, ...text, "--json"]);
    expect(third.code).toBe(ExitCode.NOT_ON_NETWORK);
    const report = JSON.parse(third.stdout.trim().split("\n").at(-1)!);
    expect(report).toMatchObject({ event: "report", interrupted: false, sent: RECIPIENTS, sentThisRun: 0, alreadySent: RECIPIENTS, failed: [] });
    expect([...report.notOnNetwork].sort()).toEqual([...absent].sort());
  });

  it("Ctrl-C (SIGINT) stops it with exit 130; the same command then finishes, one copy each", { timeout: 600_000 }, async () => {
    const wallet = Wallet.createRandom();
    const user = newUser(wallet);
    await user.ok(["init"]);
    const recipients = (await publishedIdentities(node.url, 200)).map((k) => k.walletAddress);
    const to = join(user.home, "small.txt");
    writeFileSync(to, recipients.join("\n"));
    const child = user.spawn(["broadcast", "--to", to, "interrupted", "politely", "--json"]);
    const lines = new LineReader(child.stdout!);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await lines.waitFor((line) => JSON.parse(line).sent >= 50, "50 recipients sent", LONG_RUN_GUARD_MS);
    child.kill("SIGINT");
    expect(await exited).toBe(130);

    const resumed = await runLong(user, ["broadcast", "--to", to, "interrupted", "politely", "--json"]);
    expect(resumed.code, resumed.stderr).toBe(ExitCode.OK);
    const report = JSON.parse(resumed.stdout.trim().split("\n").at(-1)!);
    expect(report).toMatchObject({ event: "report", sent: 200, failed: [], notOnNetwork: [] });
    expect(report.alreadySent).toBeGreaterThanOrEqual(50);
    const deliveries = await deliveriesBySender(await Client.create(wallet, { apiUrl: node.url }));
    expect(recipients.filter((a) => deliveries.get(a.toLowerCase())?.envelopes !== 1)).toEqual([]);
  });

  it("reports lines that are not addresses with their numbers and sends nothing", async () => {
    const user = newUser(Wallet.createRandom());
    const [good] = (await publishedIdentities(node.url, 1)).map((k) => k.walletAddress);
    const to = join(user.home, "typos.txt");
    const bad = good.slice(0, 2) + (good[2] === good[2].toUpperCase() ? good[2].toLowerCase() : good[2].toUpperCase()) + good.slice(3);
    writeFileSync(to, `# list\n${good}\n\n0x1234\n${bad === good ? "nope" : bad}\n`);
    const result = await user.run(["broadcast", "--to", to, "hello"]);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain(`${to}:4: "0x1234" is not an Ethereum address`);
    expect(result.stderr).toContain(`${to}:5: `);
    expect(result.stderr).toContain("nothing was sent");
    expect(existsSync(`${to}.broadcast.json`)).toBe(false);

    const usage = await user.run(["broadcast", "hello"]);
    expect(usage.code).toBe(ExitCode.USAGE);
    expect(usage.stderr).toContain("missing --to FILE");
    const misplaced = await user.run(["send", good, "hi", "--resume", "x.json"]);
    expect(misplaced.code).toBe(ExitCode.USAGE);
    expect(misplaced.stderr).toContain('--resume only applies to "xmtp broadcast"');
  });

  it("exits 0 when everyone got it, and refuses another text with the same resume state", async () => {
    const user = newUser(Wallet.createRandom());
    const recipients = (await publishedIdentities(node.url, 3)).map((k) => k.walletAddress);
    const to = join(user.home, "three.txt");
    writeFileSync(to, recipients.join("\n"));
    const resume = join(user.home, "state.json");
    const first = await user.run(["broadcast", "--to", to, "--resume", resume, "--concurrency", "2", "hi", "three"]);
    expect(first.code, first.stderr).toBe(ExitCode.OK);
    expect(first.stdout).toContain("sent to 3 of 3 recipients (3 now, 0 by an earlier run)");
    const other = await user.run(["broadcast", "--to", to, "--resume", resume, "another", "text"]);
    expect(other.code).toBe(ExitCode.USAGE);
    expect(other.stderr).toContain("records a broadcast of another text");
    expect(other.stderr).toContain("[broadcast_resume_mismatch]");
  });
});
