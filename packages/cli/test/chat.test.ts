// `xmtp chat` in a real terminal: the built binary runs inside tmux (a detached session with a fixed size), keys are
// typed with `tmux send-keys` and the screen read with `tmux capture-pane`. The peer is a second identity on the
// same real node, driven through the client library; a third run names the peer through a real chain's ENS (anvil).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@xmtp-ts/client";
import { startNode, type RunningNode } from "../../../test/support/runningNode.js";
import { startAnvil, type Anvil } from "../../postage/src/test-support/anvil.js";
import { deployTestEns } from "../../client/test/support/ens/testEns.js";
import { assertCliBuilt, cliBinary, CliUser } from "./support.js";

/** A hang guard for waiting on the screen or the network, not a speed assertion. */
const GUARD_MS = 30_000;
const COLUMNS = 120;

/** One tmux server of our own (its own socket, no configuration), so nothing here touches a user's tmux sessions. */
const socketDir = mkdtempSync(join(tmpdir(), "xmtp-chat-tmux-"));
const socket = join(socketDir, "tmux.sock");

function tmux(...args: string[]): string {
  return execFileSync("tmux", ["-S", socket, "-f", "/dev/null", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A terminal running `xmtp chat …` as `user`. */
class Terminal {
  constructor(readonly name: string) {}

  static open(name: string, user: CliUser, args: string[], env: Record<string, string> = {}): Terminal {
    const vars = Object.entries(user.env(env)).map(([k, v]) => `${k}=${shellQuote(v)}`);
    // A shell around the CLI prints its exit status when it ends (128 + N for a signal), and the pane stays open.
    const cli = ["env", "-i", ...vars, "TERM=xterm-256color", shellQuote(process.execPath), shellQuote(cliBinary), ...args.map(shellQuote)].join(" ");
    const command = `${cli}; echo "[exit $?]"; sleep 600`;
    tmux("new-session", "-d", "-x", String(COLUMNS), "-y", "30", "-s", name, "sh", "-c", command);
    return new Terminal(name);
  }

  /** Types text (literally), without Enter. */
  type(text: string): void {
    tmux("send-keys", "-t", this.name, "-l", text);
  }

  /** Presses keys by tmux's names: "Enter", "C-d", "C-c". */
  press(...keys: string[]): void {
    tmux("send-keys", "-t", this.name, ...keys);
  }

  /** The screen as rows (wrapped rows kept apart), trailing blank rows dropped. */
  rows(): string[] {
    const rows = tmux("capture-pane", "-p", "-t", this.name).split("\n");
    while (rows.length > 0 && rows[rows.length - 1].trim() === "") rows.pop();
    return rows;
  }

  /** The screen with wrapped rows joined back into the lines printed. */
  text(): string {
    return tmux("capture-pane", "-p", "-J", "-t", this.name);
  }

  /** The exit status once the program has ended (the shell around it prints it), else undefined. */
  exitStatus(): number | undefined {
    const match = /^\[exit (\d+)\]$/m.exec(this.text());
    return match ? Number(match[1]) : undefined;
  }

  async waitFor(test: (screen: string) => boolean, what: string): Promise<string> {
    return waitUntil(() => {
      const screen = this.text();
      return test(screen) ? screen : undefined;
    }, () => `the screen to show ${what}; it shows:\n${this.text()}`);
  }

  close(): void {
    try {
      tmux("kill-session", "-t", this.name);
    } catch {
      // already gone
    }
  }
}

async function waitUntil<T>(probe: () => T | undefined | Promise<T | undefined>, what: () => string): Promise<T> {
  const deadline = Date.now() + GUARD_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`waited ${GUARD_MS / 1000} s for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let node: RunningNode;
let anvil: Anvil;
let alice: { cli: CliUser; address: string };
let bob: Client;
const users: CliUser[] = [];
const terminals: Terminal[] = [];

/** The texts alice sent bob, as bob's client reads them from the node. */
async function textsFromAlice(): Promise<string[]> {
  const conversations = (await bob.conversations.list()).filter((c) => c.peerAddress === alice.address);
  const texts: string[] = [];
  for (const c of conversations) {
    for (const m of await c.messages()) if (m.senderAddress === alice.address) texts.push(String(m.content));
  }
  return texts;
}

async function bobSays(text: string): Promise<void> {
  const conversation = await bob.conversations.newConversation(alice.address);
  await conversation.send(text);
}

/** Waits until bob has `text` from alice, then says how many copies he has (after the rest of the queue drained). */
async function copiesBobGot(text: string): Promise<number> {
  await waitUntil(async () => ((await textsFromAlice()).includes(text) ? true : undefined), () => `bob to receive ${JSON.stringify(text)}`);
  return (await textsFromAlice()).filter((t) => t === text).length;
}

beforeAll(async () => {
  assertCliBuilt();
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
  } catch (err) {
    throw new Error("tmux is needed to run `xmtp chat` in a real terminal: install it (bash .ci/tmux.sh)", { cause: err });
  }
  [node, anvil] = await Promise.all([startNode(), startAnvil({ accounts: 1 })]);
  const cli = new CliUser(node.url);
  users.push(cli);
  const { address } = await cli.json<{ address: string }>(["init"]);
  alice = { cli, address };
  bob = await Client.create(Wallet.createRandom(), { apiUrl: node.url });
});

afterAll(async () => {
  for (const t of terminals) t.close();
  try {
    tmux("kill-server");
  } catch {
    // no server left
  }
  rmSync(socketDir, { recursive: true, force: true });
  for (const u of users) u.dispose();
  await Promise.all([node?.dispose(), anvil?.stop()]);
});

describe("xmtp chat in a terminal", () => {
  it("shows the history, streams the peer's messages, sends each typed line once, and ends with Ctrl-D", async () => {
    await bobSays("before the chat");
    const term = Terminal.open("plain", alice.cli, ["chat", bob.address]);
    terminals.push(term);

    const opened = await term.waitFor((s) => s.trimEnd().endsWith(">"), "the prompt");
    expect(opened).toContain(`chat with ${bob.address} as ${alice.address} on ${node.url}`);
    expect(opened).toMatch(new RegExp(`\\d\\d:\\d\\d:\\d\\d  ${bob.address}: before the chat`));

    // A line typed and sent: shown once as "me: …", received once.
    term.type("hello from the terminal");
    term.press("Enter");
    await term.waitFor((s) => s.includes("me: hello from the terminal"), "the sent line");
    expect(await copiesBobGot("hello from the terminal")).toBe(1);

    // Incoming while a line is half typed: the message shows above, the half line stays intact on the prompt.
    term.type("half typed");
    await term.waitFor((s) => s.trimEnd().endsWith("> half typed"), "the half-typed line");
    await bobSays("incoming while you type");
    const during = await term.waitFor((s) => s.includes(`${bob.address}: incoming while you type`), "the incoming message");
    expect(during.trimEnd().split("\n").slice(-2)).toEqual([expect.stringMatching(/: incoming while you type$/), "> half typed"]);
    term.type(", then finished");
    term.press("Enter");
    await term.waitFor((s) => s.includes("me: half typed, then finished"), "the finished line");
    expect(await copiesBobGot("half typed, then finished")).toBe(1);

    // A line longer than the terminal is wide, with a message arriving while it wraps over two rows.
    const long = "a long line " + "x".repeat(COLUMNS) + " that wraps";
    term.type(long);
    await term.waitFor((s) => s.trimEnd().endsWith("that wraps"), "the long line typed");
    await bobSays("incoming over a wrapped line");
    const wrapped = await term.waitFor((s) => s.includes(`${bob.address}: incoming over a wrapped line`), "the message over the long line");
    expect(wrapped.trimEnd().split("\n").slice(-2)).toEqual([expect.stringMatching(/: incoming over a wrapped line$/), `> ${long}`]);
    // Edited in the middle (readline redraws the whole wrapped line then), with another message arriving.
    term.press("Left", "Left", "Left", "Left", "Left");
    term.type("!");
    const edited = long.slice(0, -5) + "!" + long.slice(-5);
    await term.waitFor((s) => s.trimEnd().endsWith(`> ${edited}`), "the edited long line");
    await bobSays("incoming over an edited line");
    const again = await term.waitFor((s) => s.includes(`${bob.address}: incoming over an edited line`), "the message over the edited line");
    expect(again.trimEnd().split("\n").slice(-2)).toEqual([expect.stringMatching(/: incoming over an edited line$/), `> ${edited}`]);
    term.type("?");
    await term.waitFor((s) => s.trimEnd().endsWith(`> ${edited.slice(0, -5)}?${edited.slice(-5)}`), "the cursor where it was");
    term.press("BSpace");
    term.press("Enter");
    await term.waitFor((s) => s.includes(`me: ${edited}`), "the long line sent");
    expect(await copiesBobGot(edited)).toBe(1);

    // A line that fills its row exactly (the terminal wraps only on the next character): erased as one row.
    const exact = "e".repeat(COLUMNS - 2);
    term.type(exact);
    await term.waitFor((s) => s.trimEnd().endsWith(`> ${exact}`), "the row-filling line typed");
    term.press("Enter");
    await term.waitFor((s) => s.includes(`me: ${exact}`), "the row-filling line sent");
    expect(await copiesBobGot(exact)).toBe(1);

    // Nothing left over from the input lines: only the live prompt starts with "> ", and each text shows once.
    const screen = term.text();
    const lines = screen.trimEnd().split("\n");
    expect(lines.filter((l) => l.startsWith(">"))).toEqual([">"]);
    for (const text of ["hello from the terminal", "half typed, then finished", edited, "incoming while you type", "incoming over an edited line", exact]) {
      expect(screen.split(text).length - 1).toBe(1);
    }

    term.press("C-d");
    await waitUntil(() => term.exitStatus(), () => `the chat to end; the screen shows:\n${term.text()}`);
    expect(term.exitStatus()).toBe(0);
    expect(term.text()).toContain(`left the chat with ${bob.address}`);
    expect(await textsFromAlice()).toEqual(["hello from the terminal", "half typed, then finished", edited, exact]);
  });

  it("keeps the session when a send fails, says why, and leaves with /quit", async () => {
    const term = Terminal.open("failing", alice.cli, ["chat", bob.address]);
    terminals.push(term);
    await term.waitFor((s) => s.includes("me: hello from the terminal") && s.trimEnd().endsWith(">"), "the prompt");

    // The node goes away: the send fails with the reason, and the chat goes on.
    const port = new URL(node.url).port;
    await node.stop();
    term.type("while the node is down");
    term.press("Enter");
    const failed = await term.waitFor((s) => s.includes("xmtp: not sent: while the node is down"), "the failure");
    expect(failed).toContain(node.url);
    node = await startNode({ dataDir: node.dataDir, port: Number(port) });

    term.type("after the node is back");
    term.press("Enter");
    await term.waitFor((s) => s.includes("me: after the node is back"), "the line sent after the restart");
    expect(await copiesBobGot("after the node is back")).toBe(1);
    expect(await textsFromAlice()).not.toContain("while the node is down");

    term.type("/quit");
    term.press("Enter");
    await waitUntil(() => term.exitStatus(), () => `the chat to end; the screen shows:\n${term.text()}`);
    expect(term.exitStatus()).toBe(0);
  });

  it("names the peer by its verified ENS name, takes the name as the peer, and ends with Ctrl-C", async () => {
    const ens = await deployTestEns(anvil);
    await ens.setAddress("bob.eth", bob.address);
    await ens.setReverse(bob.address, "bob.eth");
    await bobSays("from the history, by name");

    // By address: the reverse record, verified forward, names the peer.
    const byAddress = Terminal.open("named", alice.cli, ["chat", bob.address.toLowerCase(), "--eth-rpc-url", anvil.rpcUrl]);
    terminals.push(byAddress);
    const screen = await byAddress.waitFor((s) => s.trimEnd().endsWith(">"), "the prompt");
    expect(screen).toContain(`chat with bob.eth (${bob.address})`);
    expect(screen).toContain("bob.eth: from the history, by name");
    await bobSays("signed, bob.eth");
    await byAddress.waitFor((s) => s.includes("bob.eth: signed, bob.eth"), "the message under the name");
    byAddress.press("C-c");
    await waitUntil(() => byAddress.exitStatus(), () => `the chat to end; the screen shows:\n${byAddress.text()}`);
    expect(byAddress.exitStatus()).toBe(0);

    // By name.
    const byName = Terminal.open("by-name", alice.cli, ["chat", "Bob.ETH"], { XMTP_ETH_RPC_URL: anvil.rpcUrl });
    terminals.push(byName);
    await byName.waitFor((s) => s.includes(`chat with bob.eth (${bob.address})`) && s.trimEnd().endsWith(">"), "the prompt");
    byName.type("to you by name");
    byName.press("Enter");
    await byName.waitFor((s) => s.includes("me: to you by name"), "the line sent");
    expect(await copiesBobGot("to you by name")).toBe(1);
    byName.press("C-d");
    await waitUntil(() => byName.exitStatus(), () => `the chat to end; the screen shows:\n${byName.text()}`);
    expect(byName.exitStatus()).toBe(0);
  });
});
