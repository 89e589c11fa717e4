// The command logic, in-process, over a stand-in client; the real binary against a real node is in test/.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChatClient, ChatConversation, ChatMessage } from "./chatClient.js";
import { ExitCode } from "./errors.js";
import { run, type CliIo } from "./run.js";

const PEER = Wallet.createRandom().address;
const STRANGER = Wallet.createRandom().address;

interface Harness {
  io: CliIo;
  out: string[];
  err: string[];
  interrupt: AbortController;
  sent: { peer: string; text: string }[];
}

function fakeConversation(me: string, peer: string, topic: string, history: ChatMessage[], sent: Harness["sent"]): ChatConversation {
  const conversation: ChatConversation = {
    peerAddress: peer,
    topic,
    createdAt: new Date(1_000),
    conversationVersion: "v2",
    async send(text) {
      sent.push({ peer, text });
      return { id: `id-${sent.length}`, senderAddress: me, sent: new Date(), content: text, conversation };
    },
    async messages(options) {
      const ordered = [...history].sort((a, b) => a.sent.getTime() - b.sent.getTime());
      if (options?.direction === "descending") ordered.reverse();
      return ordered.slice(0, options?.limit ?? ordered.length);
    },
  };
  return conversation;
}

function textMessage(id: string, sender: string, at: number, content: string): ChatMessage {
  return { id, senderAddress: sender, sent: new Date(at), content, contentType: { authorityId: "xmtp.org", typeId: "text", versionMajor: 1, versionMinor: 0 } };
}

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "xmtp-cli-run-"));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function harness(options: { conversations?: (me: string, sent: Harness["sent"]) => ChatConversation[]; live?: ChatMessage[]; stdin?: string } = {}): Harness {
  const out: string[] = [];
  const err: string[] = [];
  const sent: Harness["sent"] = [];
  const interrupt = new AbortController();
  const onNetwork = new Set([PEER]);
  const io: CliIo = {
    env: { XMTP_HOME: home },
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    readStdin: async () => options.stdin ?? "",
    interrupt: interrupt.signal,
    async connect(identity) {
      const me = identity.address;
      onNetwork.add(me);
      const conversations = options.conversations?.(me, sent) ?? [];
      const client: ChatClient = {
        address: me,
        canMessage: async (address) => onNetwork.has(address),
        conversations: {
          list: async () => conversations,
          newConversation: async (peer) => fakeConversation(me, peer, `/xmtp/0/m-${peer}/proto`, [], sent),
          async streamAllMessages() {
            const live = options.live ?? [];
            let closed = false;
            let wake = () => {};
            const iterator = {
              async next(): Promise<IteratorResult<ChatMessage>> {
                if (live.length > 0 && !closed) return { value: live.shift()!, done: false };
                // Like a real stream: wait for more until closed.
                await new Promise<void>((resolve) => (wake = resolve));
                return { value: undefined, done: true };
              },
              async return() {
                closed = true;
                wake();
                return { value: undefined, done: true as const };
              },
              [Symbol.asyncIterator]() {
                return this;
              },
            };
            return iterator;
          },
        },
      };
      return client;
    },
    canMessage: async (address) => onNetwork.has(address),
  };
  return { io, out, err, interrupt, sent };
}

async function init(h: Harness): Promise<string> {
  expect(await run(["init", "--json"], h.io)).toBe(ExitCode.OK);
  const address = JSON.parse(h.out.pop()!).address as string;
  return address;
}

describe("run", () => {
  it("init creates an identity once and reuses it", async () => {
    const h = harness();
    const first = await init(h);
    expect(await init(h)).toBe(first);
    expect(await run(["init"], h.io)).toBe(0);
    expect(h.out.join("")).toContain(`using the identity ${first}`);
  });

  it("can-message exits 0 for a known address and 4 for an unknown one, also in JSON", async () => {
    const h = harness();
    expect(await run(["can-message", PEER], h.io)).toBe(ExitCode.OK);
    expect(h.out.pop()).toBe(`${PEER} is on the XMTP network\n`);
    expect(await run(["can-message", STRANGER, "--json"], h.io)).toBe(ExitCode.NOT_ON_NETWORK);
    expect(JSON.parse(h.out.pop()!)).toEqual({ address: STRANGER, canMessage: false });
  });

  it("send refuses a peer that is not on the network and sends nothing", async () => {
    const h = harness();
    await init(h);
    expect(await run(["send", STRANGER, "hi"], h.io)).toBe(ExitCode.NOT_ON_NETWORK);
    expect(h.err.join("")).toContain(`${STRANGER} is not on the XMTP network`);
    expect(h.sent).toEqual([]);
  });

  it("send without an identity says to run init", async () => {
    const h = harness();
    expect(await run(["send", PEER, "hi", "--json"], h.io)).toBe(ExitCode.IDENTITY);
    const report = JSON.parse(h.err.join(""));
    expect(report.error.kind).toBe("IDENTITY");
    expect(report.error.message).toContain("xmtp init");
  });

  it('send "-" sends standard input without its final newline', async () => {
    const h = harness({ stdin: "line one\nline two\n" });
    await init(h);
    expect(await run(["send", PEER, "-"], h.io)).toBe(ExitCode.OK);
    expect(h.sent).toEqual([{ peer: PEER, text: "line one\nline two" }]);
  });

  it("read merges every conversation with the peer, oldest first, keeping the last N", async () => {
    const h = harness({
      conversations: (me, sent) => [
        fakeConversation(me, PEER, "a", [textMessage("1", PEER, 1_000, "one"), textMessage("3", me, 3_000, "three")], sent),
        fakeConversation(me, PEER, "b", [textMessage("2", PEER, 2_000, "two"), textMessage("4", PEER, 4_000, "four")], sent),
        fakeConversation(me, STRANGER, "c", [textMessage("5", STRANGER, 5_000, "other")], sent),
      ],
    });
    await init(h);
    expect(await run(["read", PEER, "--limit", "3", "--json"], h.io)).toBe(ExitCode.OK);
    const { messages } = JSON.parse(h.out.pop()!);
    expect(messages.map((m: { content: string }) => m.content)).toEqual(["two", "three", "four"]);
  });

  it("read with no conversation exits 8 and says how to start one", async () => {
    const h = harness();
    await init(h);
    expect(await run(["read", PEER], h.io)).toBe(ExitCode.NO_CONVERSATION);
    expect(h.err.join("")).toContain(`xmtp send ${PEER} TEXT`);
  });

  it("list puts the most recently active conversation first", async () => {
    const h = harness({
      conversations: (me, sent) => [
        fakeConversation(me, PEER, "a", [textMessage("1", PEER, 1_000, "old")], sent),
        fakeConversation(me, STRANGER, "b", [textMessage("2", me, 9_000, "new")], sent),
      ],
    });
    await init(h);
    expect(await run(["list", "--json"], h.io)).toBe(ExitCode.OK);
    const { conversations } = JSON.parse(h.out.pop()!);
    expect(conversations.map((c: { peerAddress: string }) => c.peerAddress)).toEqual([STRANGER, PEER]);
    expect(conversations[0].latestMessage.content).toBe("new");
  });

  it("stream prints messages as JSON lines and exits 0 when interrupted", async () => {
    const h = harness({ live: [textMessage("1", PEER, 1_000, "first"), textMessage("2", PEER, 2_000, "second")] });
    await init(h);
    const exit = run(["stream", "--json"], h.io);
    while (h.out.length < 2) await new Promise((resolve) => setImmediate(resolve));
    h.interrupt.abort();
    expect(await exit).toBe(ExitCode.OK);
    expect(h.out.map((line) => JSON.parse(line).content)).toEqual(["first", "second"]);
    expect(h.err.join("")).toContain("streaming messages for");
  });
});
