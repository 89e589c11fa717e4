// The command logic, in-process, over a stand-in client; the real binary against a real node is in test/.
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiError, InvalidPostageGrantError, PostageRequiredError, type PostageGrant, type PostageRequiredQuote } from "@xmtp-ts/client";
import type { ChatClient, ChatConversation, ChatMessage, ChatPostage, ConnectOptions } from "./chatClient.js";
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
  /** The options of every connect, in order. */
  connects: ConnectOptions[];
}

const QUOTE: PostageRequiredQuote = {
  postage: "required",
  chainId: 31337n,
  vault: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  operator: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  priceWei: 1_000_000n,
  pricePerByteWei: 0n,
};

/** A stand-in grant: base64 of its JSON. Only the real client checks signatures; the CLI only passes grants on. */
function fakeGrant(grantor: string, grantee: string, expiresInMs = 86_400_000): string {
  return Buffer.from(JSON.stringify({ grantor, grantee, expiresAt: Date.now() + expiresInMs })).toString("base64");
}

function readFakeGrant(base64: string): PostageGrant {
  const { grantor, grantee, expiresAt } = JSON.parse(Buffer.from(base64, "base64").toString("utf8"));
  return {
    grantor,
    grantee,
    expiresAt: new Date(expiresAt),
    expiresNs: BigInt(expiresAt) * 1_000_000n,
    chainId: QUOTE.chainId,
    vault: QUOTE.vault,
    base64,
    bytes: new Uint8Array(),
    signed: undefined as never,
  };
}

/** client.postage with grants kept in memory, as the real one does: each connect (each CLI process) starts empty. */
function fakePostage(me: string): ChatPostage & { held: Map<string, PostageGrant> } {
  const held = new Map<string, PostageGrant>();
  const unused = () => Promise.reject(new Error("not in this fake"));
  return {
    held,
    canPay: false,
    quote: async () => QUOTE,
    deposit: unused,
    balance: unused,
    requestWithdrawal: unused,
    withdraw: unused,
    grant: async (grantee) => readFakeGrant(fakeGrant(me, grantee)),
    acceptGrant(base64) {
      const grant = readFakeGrant(base64);
      if (grant.grantee !== me) throw new InvalidPostageGrantError("not_for_us", `the grant is for ${grant.grantee}, not for ${me}`);
      if (grant.expiresAt.getTime() <= Date.now()) throw new InvalidPostageGrantError("expired", "it expired");
      held.set(grant.grantor, grant);
      return grant;
    },
    grants: () => [...held.values()].filter((grant) => grant.expiresAt.getTime() > Date.now()),
  };
}

/** The node's 402 as the client reports it when there is no grant, prior contact or payer. */
function refusal(peer: string): PostageRequiredError {
  const serverMessage =
    `postage required: writing to /xmtp/0/invite-${peer}/proto costs 1000000 wei (vault ${QUOTE.vault} on chain 31337, ` +
    `operator ${QUOTE.operator}); free with a prior contact or a relationship grant from ${peer}`;
  return new PostageRequiredError({
    recipients: [peer],
    serverMessage,
    quote: QUOTE,
    attempted: ["seal"],
    payerConfigured: false,
    cause: new ApiError({ call: "publish", code: 9, serverMessage, httpStatus: 402, transient: false }),
  });
}

function fakeConversation(me: string, peer: string, topic: string, history: ChatMessage[], sent: Harness["sent"]): ChatConversation {
  const conversation: ChatConversation = {
    peerAddress: peer,
    topic,
    createdAt: new Date(1_000),
    conversationVersion: "v2",
    async send(content) {
      sent.push({ peer, text: content as string });
      return { id: `id-${sent.length}`, senderAddress: me, sent: new Date(), content, conversation };
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

function harness(
  options: {
    conversations?: (me: string, sent: Harness["sent"]) => ChatConversation[];
    live?: ChatMessage[];
    stdin?: string;
    /** The node charges strangers: a new conversation needs a grant from the peer. */
    postageRequired?: boolean;
    env?: Record<string, string>;
  } = {},
): Harness {
  const out: string[] = [];
  const err: string[] = [];
  const sent: Harness["sent"] = [];
  const connects: ConnectOptions[] = [];
  const interrupt = new AbortController();
  const onNetwork = new Set([PEER]);
  const io: CliIo = {
    env: { XMTP_HOME: home, ...options.env },
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    readStdin: async () => options.stdin ?? "",
    interrupt: interrupt.signal,
    async connect(identity, _apiUrl, connectOptions = {}) {
      connects.push(connectOptions);
      const me = identity.address;
      onNetwork.add(me);
      const conversations = options.conversations?.(me, sent) ?? [];
      const postage = fakePostage(me);
      const client: ChatClient = {
        address: me,
        canMessage: async (address) => onNetwork.has(address),
        postage,
        conversations: {
          list: async () => conversations,
          async newConversation(peer) {
            if (options.postageRequired && !postage.held.has(peer)) throw refusal(peer);
            return fakeConversation(me, peer, `/xmtp/0/m-${peer}/proto`, [], sent);
          },
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
  return { io, out, err, interrupt, sent, connects };
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

  it("send joins the words after ADDRESS into one message", async () => {
    const h = harness();
    await init(h);
    expect(await run(["send", PEER, "hello", "world"], h.io)).toBe(ExitCode.OK);
    expect(h.sent).toEqual([{ peer: PEER, text: "hello world" }]);
  });

  it("whoami prints the identity's address and the node it is for, without connecting", async () => {
    const h = harness();
    const me = await init(h);
    const connectsAfterInit = h.connects.length;
    expect(await run(["whoami", "--api-url", "http://127.0.0.1:7777"], h.io)).toBe(ExitCode.OK);
    const text = h.out.splice(0).join("");
    expect(text.split("\n")[0]).toBe(me);
    expect(text).toContain(`key: ${join(home, "identity.json")}`);
    expect(text).toContain("node: http://127.0.0.1:7777");
    expect(await run(["whoami", "--json"], h.io)).toBe(ExitCode.OK);
    expect(JSON.parse(h.out.pop()!)).toEqual({
      address: me,
      source: "key-file",
      keyFile: join(home, "identity.json"),
      apiUrl: "http://localhost:5555",
    });
    expect(h.connects.length).toBe(connectsAfterInit);
  });

  it("whoami uses XMTP_PRIVATE_KEY like the other commands", async () => {
    const wallet = Wallet.createRandom();
    const h = harness({ env: { XMTP_PRIVATE_KEY: wallet.privateKey } });
    expect(await run(["whoami", "--json"], h.io)).toBe(ExitCode.OK);
    expect(JSON.parse(h.out.pop()!)).toMatchObject({ address: wallet.address, source: "environment", keyFile: "XMTP_PRIVATE_KEY" });
  });

  it("whoami without an identity exits 6 and says to run init", async () => {
    const h = harness();
    expect(await run(["whoami"], h.io)).toBe(ExitCode.IDENTITY);
    expect(h.out).toEqual([]);
    expect(h.err.join("")).toMatch(/^xmtp: no identity: .* Run "xmtp init" first/);
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

describe("run: postage", () => {
  it("send to a stranger on a node that charges: explains price, network and the three ways forward, exit 9, nothing sent", async () => {
    const h = harness({ postageRequired: true });
    const me = await init(h);
    expect(await run(["send", PEER, "hi"], h.io)).toBe(ExitCode.POSTAGE);
    const text = h.err.join("");
    expect(text).toContain(`xmtp: ${PEER} is a stranger to you on the node at http://localhost:5555`);
    expect(text).toContain("price: 1000000 wei (0.000000000001 ETH) per message");
    expect(text).toContain(`paid into: vault ${QUOTE.vault} on chain 31337, for operator ${QUOTE.operator}`);
    expect(text).toContain("the node said: postage required: writing to");
    expect(text).toContain(`1. ask ${PEER} for a grant (they run: xmtp grant ${me}), then run: xmtp accept-grant GRANT`);
    expect(text).toContain('"xmtp postage deposit WEI"');
    expect(text).toContain(`3. wait for ${PEER} to write to you first: replying is free`);
    expect(h.sent).toEqual([]);

    h.err.length = 0;
    expect(await run(["send", PEER, "hi", "--json"], h.io)).toBe(ExitCode.POSTAGE);
    const report = JSON.parse(h.err.join(""));
    expect(report.error).toMatchObject({ kind: "POSTAGE", exitCode: 9 });
    expect(report.error.details.quote).toMatchObject({ vault: QUOTE.vault, chainId: "31337", priceWei: "1000000" });
    expect(report.error.details.recipients).toEqual([PEER]);
  });

  it("accept-grant keeps the grant beside the key file, and a later send (a new client) uses it", async () => {
    const h = harness({ postageRequired: true });
    const me = await init(h);
    expect(await run(["accept-grant", fakeGrant(PEER, me)], h.io)).toBe(ExitCode.OK);
    expect(h.out.join("")).toContain(`accepted the grant from ${PEER}: your first messages to them are free until`);
    const file = join(home, "postage-grants.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, "utf8"));
    expect(stored).toMatchObject({ type: "xmtp-ts/postage-grants", version: 1, grants: [{ grantor: PEER, grantee: me, chainId: "31337" }] });

    expect(await run(["send", PEER, "free, thanks to your grant"], h.io)).toBe(ExitCode.OK);
    expect(h.sent).toEqual([{ peer: PEER, text: "free, thanks to your grant" }]);
    // Each command is its own client: the grant came from the file.
    expect(h.connects).toHaveLength(3);
  });

  it("accept-grant reads standard input for \"-\", and refuses a grant made for someone else (exit 9), keeping nothing", async () => {
    const h = harness({ stdin: fakeGrant(PEER, STRANGER) + "\n" });
    await init(h);
    expect(await run(["accept-grant", "-"], h.io)).toBe(ExitCode.POSTAGE);
    expect(h.err.join("")).toContain("the grant is not usable (not_for_us)");
    expect(() => statSync(join(home, "postage-grants.json"))).toThrow();
  });

  it("send passes the payer from XMTP_PAYER_KEY and --max-price to the client; no payer without the variable", async () => {
    const payer = Wallet.createRandom();
    const h = harness({ env: { XMTP_PAYER_KEY: payer.privateKey.slice(2) } });
    await init(h);
    expect(await run(["send", PEER, "hi", "--max-price", "5000"], h.io)).toBe(ExitCode.OK);
    // Every command keeps the inbox in a database beside the key file, one per identity and node.
    const dbPath = expect.stringMatching(/\/inbox\/0x[0-9a-fA-F]{40}@localhost_5555\.db$/);
    expect(h.connects.at(-1)).toEqual({ payer: { privateKey: payer.privateKey, maxPriceWei: 5000n }, dbPath });

    const unpaid = harness();
    await init(unpaid);
    expect(await run(["send", PEER, "hi"], unpaid.io)).toBe(ExitCode.OK);
    expect(unpaid.connects.at(-1)).toEqual({ dbPath });
  });

  it("postage balance without XMTP_PAYER_KEY or without an RPC is a usage error naming what is missing", async () => {
    const h = harness();
    await init(h);
    expect(await run(["postage", "balance"], h.io)).toBe(ExitCode.USAGE);
    expect(h.err.join("")).toContain("needs the payer's private key in XMTP_PAYER_KEY");
    const keyed = harness({ env: { XMTP_PAYER_KEY: Wallet.createRandom().privateKey } });
    await init(keyed);
    expect(await run(["postage", "deposit", "1000"], keyed.io)).toBe(ExitCode.USAGE);
    expect(keyed.err.join("")).toContain("needs the payer's chain RPC: --rpc URL or XMTP_PAYER_RPC");
  });

  it("grant prints the grant's base64 as the last line, for any channel", async () => {
    const h = harness();
    const me = await init(h);
    expect(await run(["grant", PEER, "--days", "7"], h.io)).toBe(ExitCode.OK);
    const lines = h.out.join("").trimEnd().split("\n");
    expect(lines[0]).toContain(`grant: ${PEER} may write first messages to you (${me}) free until`);
    expect(readFakeGrant(lines.at(-1)!)).toMatchObject({ grantor: me, grantee: PEER });
  });

  it("grant --send needs an existing conversation with the address (exit 8), since starting one is itself a first message", async () => {
    const h = harness();
    await init(h);
    expect(await run(["grant", PEER, "--send"], h.io)).toBe(ExitCode.NO_CONVERSATION);
    expect(h.err.join("")).toContain(`you have no conversation with ${PEER} to send the grant in`);
  });
});
