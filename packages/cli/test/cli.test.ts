// The real `xmtp` binary against a real node, talking with the public SDK and with another CLI user.
import { chmodSync, readdirSync, readFileSync, statSync } from "node:fs";
import { once } from "node:events";
import { join } from "node:path";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNode, type RunningNode } from "../../../test/support/runningNode.js";
import { ExitCode } from "../src/errors.js";
import { assertCliBuilt, CliUser, closedPort, createSdkClient, LineReader } from "./support.js";

let node: RunningNode;
const users: CliUser[] = [];

function user(extraEnv: Record<string, string> = {}): CliUser {
  const created = new CliUser(node.url, extraEnv);
  users.push(created);
  return created;
}

async function initialised(): Promise<{ cli: CliUser; address: string }> {
  const cli = user();
  const { address } = await cli.json<{ address: string }>(["init"]);
  return { cli, address };
}

beforeAll(async () => {
  assertCliBuilt();
  node = await startNode();
});

afterAll(async () => {
  for (const u of users) u.dispose();
  await node?.dispose();
});

describe("xmtp init", () => {
  it("creates an identity in a 0600 key file, registers it, and loads the same one next time", async () => {
    const cli = user();
    const first = await cli.json<{ address: string; source: string; saved: boolean; keyFile: string }>(["init"]);
    expect(first).toMatchObject({ source: "generated", saved: true, keyFile: cli.keyFile });
    expect(statSync(cli.keyFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(cli.keyFile, "utf8")).address).toBe(first.address);

    const second = await cli.json<{ address: string; source: string; saved: boolean }>(["init"]);
    expect(second).toMatchObject({ address: first.address, source: "key-file", saved: false });

    // Registered: another party can find it on the network.
    const other = user();
    expect((await other.run(["can-message", first.address])).code).toBe(ExitCode.OK);
  });

  it("takes the wallet from XMTP_PRIVATE_KEY and saves it", async () => {
    const wallet = Wallet.createRandom();
    const cli = user();
    const text = await cli.ok(["init"], { env: { XMTP_PRIVATE_KEY: wallet.privateKey } });
    expect(text).toContain(`using the identity from XMTP_PRIVATE_KEY ${wallet.address}`);
    expect(JSON.parse(readFileSync(cli.keyFile, "utf8")).address).toBe(wallet.address);
    // Later commands need no environment variable: the key file has it.
    expect((await cli.json<{ address: string }>(["init"])).address).toBe(wallet.address);
  });

  it("refuses a key file other users can read", async () => {
    const { cli } = await initialised();
    chmodSync(cli.keyFile, 0o644);
    const result = await cli.run(["list"]);
    expect(result.code).toBe(ExitCode.IDENTITY);
    expect(result.stderr).toContain("chmod 600");
  });
});

describe("chatting with a public-SDK client", () => {
  it("sends, reads, lists and receives replies", async () => {
    const { cli, address } = await initialised();
    const sdkWallet = Wallet.createRandom();
    const sdkClient = await createSdkClient(node.url, sdkWallet);
    try {
      expect((await cli.run(["can-message", sdkWallet.address])).code).toBe(ExitCode.OK);

      const sent = await cli.json<{ message: { content: string; peerAddress: string } }>([
        "send",
        sdkWallet.address,
        "hello from the xmtp CLI",
      ]);
      expect(sent.message).toMatchObject({ content: "hello from the xmtp CLI", peerAddress: sdkWallet.address });

      const [conversation] = await sdkClient.conversations.list();
      expect(conversation.peerAddress).toBe(address);
      const received = await conversation.messages();
      expect(received.map((m) => [m.senderAddress, m.content])).toEqual([[address, "hello from the xmtp CLI"]]);

      await conversation.send("hello back from the SDK");

      const read = await cli.json<{ messages: { senderAddress: string; content: string }[] }>([
        "read",
        sdkWallet.address,
        "--limit",
        "10",
      ]);
      expect(read.messages.map((m) => [m.senderAddress, m.content])).toEqual([
        [address, "hello from the xmtp CLI"],
        [sdkWallet.address, "hello back from the SDK"],
      ]);

      const limited = await cli.json<{ messages: { content: string }[] }>(["read", sdkWallet.address, "--limit", "1"]);
      expect(limited.messages.map((m) => m.content)).toEqual(["hello back from the SDK"]);

      const text = await cli.ok(["read", sdkWallet.address]);
      expect(text).toMatch(/ me: hello from the xmtp CLI\n/);
      expect(text).toContain(`${sdkWallet.address}: hello back from the SDK`);

      const listed = await cli.json<{ conversations: { peerAddress: string; latestMessage: { content: string } }[] }>([
        "list",
      ]);
      expect(listed.conversations).toHaveLength(1);
      expect(listed.conversations[0]).toMatchObject({
        peerAddress: sdkWallet.address,
        latestMessage: { content: "hello back from the SDK" },
      });
      // The inbox was kept between these commands, encrypted, beside the key file: one database for this node.
      const port = new URL(node.url).port;
      const inbox = join(cli.home, "inbox");
      expect(readdirSync(inbox).filter((name) => name.endsWith(".db"))).toEqual([`${address}@127.0.0.1_${port}.db`]);
      expect(statSync(join(inbox, `${address}@127.0.0.1_${port}.db`)).mode & 0o777).toBe(0o600);
    } finally {
      await sdkClient.close();
    }
  });

  it("reads a conversation the SDK started, and sends into the same one", async () => {
    const { cli, address } = await initialised();
    const sdkClient = await createSdkClient(node.url, Wallet.createRandom());
    try {
      const conversation = await sdkClient.conversations.newConversation(address);
      await conversation.send("the SDK says hi first");
      const read = await cli.json<{ messages: { content: string }[] }>(["read", sdkClient.address]);
      expect(read.messages.map((m) => m.content)).toEqual(["the SDK says hi first"]);

      await cli.ok(["send", sdkClient.address, "-"], { input: "multi\nline reply\n" });
      const messages = await conversation.messages();
      expect(messages.map((m) => m.content)).toEqual(["the SDK says hi first", "multi\nline reply"]);
    } finally {
      await sdkClient.close();
    }
  });

  it("streams messages as they arrive, from an existing and a new conversation, until interrupted", async () => {
    const { cli, address } = await initialised();
    const first = await createSdkClient(node.url, Wallet.createRandom());
    const second = await createSdkClient(node.url, Wallet.createRandom());
    const existing = await first.conversations.newConversation(address);
    await existing.send("sent before the stream started");

    const child = cli.spawn(["stream", "--json"]);
    const stdout = new LineReader(child.stdout!);
    const stderr = new LineReader(child.stderr!);
    const exited = once(child, "exit");
    try {
      await stderr.waitFor((line) => line.includes("streaming messages for"), "stream start notice");
      await existing.send("live in an existing conversation");
      const live = JSON.parse(
        await stdout.waitFor((line) => line.includes("live in an existing conversation"), "the live message"),
      );
      expect(live).toMatchObject({ senderAddress: first.address, peerAddress: first.address });

      const fresh = await second.conversations.newConversation(address);
      await fresh.send("live in a brand-new conversation");
      const newer = JSON.parse(
        await stdout.waitFor((line) => line.includes("brand-new conversation"), "the new conversation's message"),
      );
      expect(newer).toMatchObject({ senderAddress: second.address });

      // Adopting the new conversation re-queried the old topics; whatever that replayed would come before this.
      await existing.send("live after the new conversation");
      await stdout.waitFor((line) => line.includes("live after the new conversation"), "the message after adoption");
      // The stream prints only messages sent while streaming (plus a new conversation's own messages).
      const printed = stdout.lines.map((line) => JSON.parse(line).content);
      expect(printed).toEqual([
        "live in an existing conversation",
        "live in a brand-new conversation",
        "live after the new conversation",
      ]);

      child.kill("SIGINT");
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await first.close();
      await second.close();
    }
  });
});

describe("xmtp stream across a node restart", () => {
  it("says the connection was lost, reconnects by itself, and goes on delivering", async () => {
    // Its own node: this test stops it.
    const ownNode = await startNode();
    const port = Number(new URL(ownNode.url).port);
    let restarted: RunningNode | undefined;
    const cli = new CliUser(ownNode.url);
    users.push(cli);
    const { address } = await cli.json<{ address: string }>(["init"]);
    const peer = await createSdkClient(ownNode.url, Wallet.createRandom());
    const conversation = await peer.conversations.newConversation(address);
    const child = cli.spawn(["stream"]);
    const stdout = new LineReader(child.stdout!);
    const stderr = new LineReader(child.stderr!);
    try {
      await stderr.waitFor((line) => line.includes("streaming messages for"), "stream start notice");
      await conversation.send("before the restart");
      await stdout.waitFor((line) => line.endsWith(`${peer.address}: before the restart`), "first message");

      await ownNode.stop();
      await stderr.waitFor((line) => line.includes("lost the connection to the node"), "connection-lost notice");
      restarted = await startNode({ dataDir: ownNode.dataDir, port });
      // The SDK peer publishes to the same URL, which the restarted node serves again.
      await conversation.send("after the restart");
      await stdout.waitFor((line) => line.endsWith(`${peer.address}: after the restart`), "message after the restart");
      expect(stdout.lines.filter((line) => line.endsWith(": before the restart"))).toHaveLength(1);
    } finally {
      child.kill("SIGKILL");
      await peer.close();
      await restarted?.stop();
      await ownNode.dispose();
    }
  });
});

describe("two CLI users", () => {
  it("chat with each other", async () => {
    const alice = await initialised();
    const bob = await initialised();
    await alice.cli.ok(["send", bob.address, "hi bob"]);
    await bob.cli.ok(["send", alice.address, "hi alice"]);
    const text = await alice.cli.ok(["read", bob.address]);
    expect(text).toMatch(/ me: hi bob\n.* 0x[0-9a-fA-F]{40}: hi alice\n$/);
    expect((await bob.cli.ok(["list"])).trim()).toMatch(new RegExp(`^${alice.address}  \\d{4}-\\d\\d-\\d\\d .* me: hi alice$`));
  });
});

describe("errors", () => {
  it("an address that is not on the network: exit 4 for can-message and send", async () => {
    const { cli } = await initialised();
    const stranger = Wallet.createRandom().address;
    const check = await cli.run(["can-message", stranger]);
    expect(check.code).toBe(ExitCode.NOT_ON_NETWORK);
    expect(check.stdout).toContain(`${stranger} is not on the XMTP network`);
    const send = await cli.run(["send", stranger, "anyone there?"]);
    expect(send.code).toBe(ExitCode.NOT_ON_NETWORK);
    expect(send.stderr).toContain(`${stranger} is not on the XMTP network`);
  });

  it("a malformed address: exit 3, naming it", async () => {
    const { cli } = await initialised();
    const result = await cli.run(["send", "0xnot-an-address", "hi"]);
    expect(result.code).toBe(ExitCode.INVALID_ADDRESS);
    expect(result.stderr).toContain('"0xnot-an-address" is not an Ethereum address');
  });

  it("reading a conversation that does not exist: exit 8", async () => {
    const { cli } = await initialised();
    const other = await initialised();
    const result = await cli.run(["read", other.address]);
    expect(result.code).toBe(ExitCode.NO_CONVERSATION);
    expect(result.stderr).toContain(`no conversation with ${other.address}`);
  });

  it("a node that is not there: exit 5, naming the URL", async () => {
    const { cli } = await initialised();
    const deadUrl = `http://127.0.0.1:${await closedPort()}`;
    const result = await cli.run(["list", "--api-url", deadUrl, "--json"]);
    expect(result.code).toBe(ExitCode.NODE_UNREACHABLE);
    const report = JSON.parse(result.stderr);
    expect(report.error).toMatchObject({ kind: "NODE_UNREACHABLE", exitCode: ExitCode.NODE_UNREACHABLE });
    expect(report.error.message).toContain(deadUrl);
    const canMessage = await cli.run(["can-message", Wallet.createRandom().address, "--api-url", deadUrl]);
    expect(canMessage.code).toBe(ExitCode.NODE_UNREACHABLE);
  });

  it("no identity: exit 6 and a pointer to xmtp init", async () => {
    const result = await user().run(["list"]);
    expect(result.code).toBe(ExitCode.IDENTITY);
    expect(result.stderr).toContain("xmtp init");
  });

  it("a bad command line: exit 2", async () => {
    const result = await user().run(["send", "--limit", "3"]);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain("--limit only applies");
  });
});
