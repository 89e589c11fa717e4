// The real `xmtp` binary with ENS names: a real node, and a real chain (anvil) carrying a small ENS at ENS's
// canonical registry address (packages/client/test/support/ens). Names are accepted where a peer is typed and shown
// (verified reverse names only) by list, read and stream, when --eth-rpc-url / XMTP_ETH_RPC_URL is set.
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNode, type RunningNode } from "../../../test/support/runningNode.js";
import { startAnvil, type Anvil } from "../../postage/src/test-support/anvil.js";
import { deployTestEns, type TestEns } from "../../client/test/support/ens/testEns.js";
import { ExitCode } from "../src/errors.js";
import { assertCliBuilt, CliUser, closedPort, LineReader } from "./support.js";

let node: RunningNode;
let anvil: Anvil;
let ens: TestEns;
const users: CliUser[] = [];

/** A CLI user with an identity on the node; names through the test chain unless `withNames` is false. */
async function person(withNames = true): Promise<{ cli: CliUser; address: string }> {
  const cli = new CliUser(node.url, withNames ? { XMTP_ETH_RPC_URL: anvil.rpcUrl } : {});
  users.push(cli);
  const { address } = await cli.json<{ address: string }>(["init"]);
  return { cli, address };
}

let alice: { cli: CliUser; address: string };
let bob: { cli: CliUser; address: string };

beforeAll(async () => {
  assertCliBuilt();
  [node, anvil] = await Promise.all([startNode(), startAnvil({ accounts: 1 })]);
  ens = await deployTestEns(anvil);
  [alice, bob] = await Promise.all([person(), person()]);
  await ens.setAddress("alice.eth", alice.address);
  await ens.setReverse(alice.address, "alice.eth");
  await ens.setAddress("bob.eth", bob.address);
  await ens.setReverse(bob.address, "bob.eth");
});

afterAll(async () => {
  for (const u of users) u.dispose();
  await Promise.all([node?.dispose(), anvil?.stop()]);
});

describe("names as peers", () => {
  it("sends to a name, and reads and checks by name", async () => {
    const sent = await alice.cli.ok(["send", "bob.eth", "hello", "by", "name"]);
    expect(sent).toContain(`sent to bob.eth (${bob.address})`);
    const json = await alice.cli.json<{ peerName: string; message: { peerAddress: string; content: string } }>(["send", "Bob.ETH", "again"]);
    expect(json).toMatchObject({ peerName: "bob.eth", message: { peerAddress: bob.address, content: "again" } });

    const read = await bob.cli.ok(["read", "alice.eth"]);
    expect(read).toMatch(/alice\.eth: hello by name\n.*alice\.eth: again\n$/);
    expect((await bob.cli.run(["can-message", "alice.eth"])).code).toBe(ExitCode.OK);
    expect(await bob.cli.ok(["can-message", "alice.eth"])).toBe(`alice.eth (${alice.address}) is on the XMTP network\n`);
  });

  it("refuses a name that resolves nowhere, a malformed one, and a name without an RPC, each clearly", async () => {
    const unknown = await alice.cli.run(["send", "nobody.eth", "hi"]);
    expect(unknown.code).toBe(ExitCode.NAME);
    expect(unknown.stderr).toContain(`nobody.eth does not resolve to an address at ${anvil.rpcUrl}`);

    const malformed = await alice.cli.run(["send", "bob..eth", "hi"]);
    expect(malformed.code).toBe(ExitCode.INVALID_ADDRESS);
    expect(malformed.stderr).toContain("is neither an Ethereum address");

    const noRpc = await alice.cli.run(["send", "bob.eth", "hi"], { env: { XMTP_ETH_RPC_URL: "" } });
    expect(noRpc.code).toBe(ExitCode.USAGE);
    expect(noRpc.stderr).toContain("--eth-rpc-url");
  });

  it("says which RPC is down when a name cannot be resolved, and sends nothing", async () => {
    const rpcUrl = `http://127.0.0.1:${await closedPort()}`;
    const before = await bob.cli.json<{ messages: unknown[] }>(["read", alice.address]);
    const result = await alice.cli.run(["send", "bob.eth", "never sent", "--eth-rpc-url", rpcUrl]);
    expect(result.code).toBe(ExitCode.NAME);
    expect(result.stderr).toContain(`the Ethereum JSON-RPC at ${rpcUrl} failed (ECONNREFUSED)`);
    const after = await bob.cli.json<{ messages: unknown[] }>(["read", alice.address]);
    expect(after.messages.length).toBe(before.messages.length);
  });
});

describe("names shown", () => {
  it("lists and reads with verified names, and exactly as before without an RPC", async () => {
    const carol = await person();
    await carol.cli.ok(["send", alice.address, "from carol, who has no name"]);

    const list = await alice.cli.ok(["list"]);
    expect(list).toContain(`bob.eth (${bob.address})  `);
    expect(list).toMatch(new RegExp(`^${carol.address}  .*from carol`, "m"));
    const listJson = await alice.cli.json<{ conversations: { peerAddress: string; peerName: string | null }[] }>(["list"]);
    expect(listJson.conversations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ peerAddress: bob.address, peerName: "bob.eth" }),
        expect.objectContaining({ peerAddress: carol.address, peerName: null }),
      ]),
    );

    const plain = await alice.cli.ok(["list"], { env: { XMTP_ETH_RPC_URL: "" } });
    expect(plain).not.toContain("bob.eth");
    expect(plain).toMatch(new RegExp(`^${bob.address}  `, "m"));
    const plainJson = await alice.cli.json<{ conversations: object[] }>(["list"], { env: { XMTP_ETH_RPC_URL: "" } });
    for (const conversation of plainJson.conversations) expect(conversation).not.toHaveProperty("peerName");

    // By address, read still shows the verified name of the sender.
    expect(await bob.cli.ok(["read", alice.address])).toContain("alice.eth: hello by name");
    expect(await bob.cli.ok(["read", alice.address], { env: { XMTP_ETH_RPC_URL: "" } })).toContain(`${alice.address}: hello by name`);
  });

  it("never shows the name a lying reverse record claims", async () => {
    const mallory = await person();
    // Mallory's reverse record claims bob.eth; bob.eth points to Bob.
    await ens.setReverse(mallory.address, "bob.eth");
    await mallory.cli.ok(["send", alice.address, "it is me, bob"]);
    const list = await alice.cli.ok(["list"]);
    const line = list.split("\n").find((l) => l.includes("it is me, bob"));
    expect(line).toBeDefined();
    expect(line!.startsWith(`${mallory.address}  `)).toBe(true);
    expect(line).not.toContain("bob.eth");
    expect(await alice.cli.ok(["read", mallory.address])).toContain(`${mallory.address}: it is me, bob`);
    const json = await alice.cli.json<{ peerName: string | null }>(["read", mallory.address]);
    expect(json.peerName).toBeNull();
  });

  it("shows addresses, and a note, when the RPC is down, and the command still works", async () => {
    const rpcUrl = `http://127.0.0.1:${await closedPort()}`;
    const result = await alice.cli.run(["list"], { env: { XMTP_ETH_RPC_URL: rpcUrl } });
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toMatch(new RegExp(`^${bob.address}  `, "m"));
    expect(result.stdout).not.toContain("bob.eth");
    expect(result.stderr).toContain(`names are not shown`);
    expect(result.stderr).toContain(rpcUrl);
  });

  it("streams with the sender's name", async () => {
    const child = bob.cli.spawn(["stream"]);
    const stdout = new LineReader(child.stdout!);
    const stderr = new LineReader(child.stderr!);
    const exited = once(child, "exit");
    try {
      await stderr.waitFor((line) => line.includes("streaming messages for"), "stream start notice");
      await alice.cli.ok(["send", "bob.eth", "live, by name"]);
      const line = await stdout.waitFor((l) => l.includes("live, by name"), "the live message");
      expect(line).toMatch(/\d\d:\d\d:\d\d {2}alice\.eth: live, by name$/);
      child.kill("SIGINT");
      expect((await exited)[0]).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
