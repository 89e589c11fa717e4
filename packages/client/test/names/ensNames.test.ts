// Names against a real chain: anvil with a small ENS (test/support/ens) at ENS's canonical registry address, read by
// EnsNameResolver through ethers; and the client taking names in newConversation and canMessage on a real node.
import { once } from "node:events";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Wallet } from "ethers";
import { startAnvil, type Anvil } from "../../../postage/src/test-support/anvil.js";
import { startNode, type RunningNode } from "../../../../test/support/runningNode.js";
import {
  Client,
  EnsNameResolver,
  InvalidAddressInputError,
  InvalidNameError,
  NameNotFoundError,
  NameResolutionError,
  NameRpcError,
  NoNameResolverError,
  XmtpClientError,
} from "../../src/index.js";
import { closedPortUrl } from "../support/closedPort.js";
import { deployTestEns, ENS_REGISTRY_ADDRESS, type TestEns } from "../support/ens/testEns.js";

let anvil: Anvil;
let ens: TestEns;
const resolvers: EnsNameResolver[] = [];

/** A resolver on the test chain that keeps nothing (each call reads the chain), unless given a TTL and clock. */
function resolver(options: { ttlMs?: number; now?: () => number; rpcUrl?: string } = {}): EnsNameResolver {
  const made = new EnsNameResolver({ rpcUrl: anvil.rpcUrl, ttlMs: 0, timeoutMs: 5_000, ...options });
  resolvers.push(made);
  return made;
}

const alice = Wallet.createRandom().address;
const bob = Wallet.createRandom().address;
const mallory = Wallet.createRandom().address;

beforeAll(async () => {
  anvil = await startAnvil({ accounts: 2 });
  ens = await deployTestEns(anvil);
  await ens.setAddress("alice.eth", alice);
  await ens.setAddress("bob.eth", bob);
  await ens.setReverse(alice, "alice.eth");
});

afterAll(async () => {
  for (const r of resolvers) r.destroy();
  await anvil?.stop();
});

describe("EnsNameResolver forward", () => {
  it("the test ENS really is at the canonical registry address", async () => {
    expect(ens.registry).toBe(ENS_REGISTRY_ADDRESS);
    expect(await anvil.provider().getCode(ENS_REGISTRY_ADDRESS)).not.toBe("0x");
  });

  it("resolves a name to its address record, whatever its case", async () => {
    const r = resolver();
    expect(await r.resolve("alice.eth")).toBe(alice);
    expect(await r.resolve("bob.eth")).toBe(bob);
    expect(await r.resolve("  Alice.ETH ")).toBe(alice);
  });

  it("returns null for a name with no resolver, and for one whose address record is empty", async () => {
    const r = resolver();
    expect(await r.resolve("nobody.eth")).toBeNull();
    await ens.setAddress("empty.eth", null);
    expect(await r.resolve("empty.eth")).toBeNull();
  });

  it("refuses malformed names with InvalidNameError, without asking the chain", async () => {
    const r = resolver({ rpcUrl: await closedPortUrl() });
    for (const bad of ["", "alice", "alice..eth", ".eth", "0x1234", "al ice.eth"]) {
      const error = await r.resolve(bad).catch((e: unknown) => e);
      expect(error, JSON.stringify(bad)).toBeInstanceOf(InvalidNameError);
      expect((error as InvalidNameError).code).toBe("invalid_name");
      expect(error).toBeInstanceOf(XmtpClientError);
    }
  });
});

describe("EnsNameResolver reverse", () => {
  it("gives the primary name when it resolves back to the address", async () => {
    expect(await resolver().lookup(alice)).toBe("alice.eth");
    expect(await resolver().lookup(alice.toLowerCase())).toBe("alice.eth");
  });

  it("gives null, never the claimed name, when the reverse record lies", async () => {
    // Mallory claims alice.eth as her primary name; alice.eth points to Alice.
    await ens.setReverse(mallory, "alice.eth");
    expect(await resolver().lookup(mallory)).toBeNull();
    // A claim of a name that resolves nowhere, and one that is not a name at all.
    const liar = Wallet.createRandom().address;
    await ens.setReverse(liar, "nobody-at-all.eth");
    expect(await resolver().lookup(liar)).toBeNull();
    await ens.setReverse(liar, "not a name");
    expect(await resolver().lookup(liar)).toBeNull();
  });

  it("gives null for an address without a reverse record", async () => {
    expect(await resolver().lookup(bob)).toBeNull();
  });

  it("refuses what is not an address", async () => {
    await expect(resolver().lookup("alice.eth")).rejects.toBeInstanceOf(InvalidAddressInputError);
  });
});

describe("EnsNameResolver cache", () => {
  it("sees a change on chain only once the TTL has passed (the clock injected)", async () => {
    let now = 1_000_000;
    const r = resolver({ ttlMs: 60_000, now: () => now });
    const carol = Wallet.createRandom().address;
    const carolNew = Wallet.createRandom().address;
    await ens.setAddress("carol.eth", carol);
    await ens.setReverse(carol, "carol.eth");
    expect(await r.resolve("carol.eth")).toBe(carol);
    expect(await r.lookup(carol)).toBe("carol.eth");
    expect(await r.resolve("dave.eth")).toBeNull();

    await ens.setAddress("carol.eth", carolNew);
    await ens.setAddress("dave.eth", carol);
    now += 59_999;
    expect(await r.resolve("carol.eth")).toBe(carol);
    expect(await r.lookup(carol)).toBe("carol.eth");
    expect(await r.resolve("dave.eth")).toBeNull();
    // An uncached resolver sees the chain as it is now.
    expect(await resolver().resolve("carol.eth")).toBe(carolNew);
    expect(await resolver().lookup(carol)).toBeNull();

    now += 1;
    expect(await r.resolve("carol.eth")).toBe(carolNew);
    expect(await r.lookup(carol)).toBeNull();
    expect(await r.resolve("dave.eth")).toBe(carol);
  });
});

describe("an RPC that is down", () => {
  it("is a NameRpcError naming the URL (nothing listens on the port)", async () => {
    const rpcUrl = await closedPortUrl();
    const r = resolver({ rpcUrl });
    for (const call of [() => r.resolve("alice.eth"), () => r.lookup(alice)]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NameRpcError);
      expect(error).toBeInstanceOf(NameResolutionError);
      expect((error as NameRpcError).code).toBe("name_rpc_failed");
      expect((error as NameRpcError).rpcUrl).toBe(rpcUrl);
      expect((error as Error).message).toContain(rpcUrl);
      expect((error as Error).message).toContain("ECONNREFUSED");
    }
  });

  it("is a NameRpcError after its deadline when the RPC accepts but never answers", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket)); // takes connections, never answers
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const rpcUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      // Without a chainId the chain is asked first (eth_chainId); with one, ethers makes the calls.
      for (const chainId of [undefined, 31337n]) {
        const r = new EnsNameResolver({ rpcUrl, chainId, timeoutMs: 300, ttlMs: 0 });
        resolvers.push(r);
        const started = Date.now();
        const error = await r.resolve("alice.eth").catch((e: unknown) => e);
        expect(error, String(chainId)).toBeInstanceOf(NameRpcError);
        expect((error as Error).message).toContain(rpcUrl);
        expect((error as NameRpcError).reason).toBe("no answer within 300 ms");
        expect(Date.now() - started).toBeLessThan(10_000);
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it("is a NameRpcError once the chain it was using stops, and failures are not cached", async () => {
    const other = await startAnvil({ accounts: 1 });
    let stopped = false;
    try {
      const otherEns = await deployTestEns(other);
      const someone = Wallet.createRandom().address;
      await otherEns.setAddress("someone.eth", someone);
      const r = resolver({ rpcUrl: other.rpcUrl, ttlMs: 60_000 });
      expect(await r.resolve("someone.eth")).toBe(someone);
      await other.stop();
      stopped = true;
      const error = await r.resolve("other.eth").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NameRpcError);
      expect((error as Error).message).toContain(other.rpcUrl);
      // What was read before the chain went away is still kept for its TTL.
      expect(await r.resolve("someone.eth")).toBe(someone);
    } finally {
      if (!stopped) await other.stop();
    }
  });
});

describe("the client with names", () => {
  let node: RunningNode;

  beforeAll(async () => {
    node = await startNode();
  });

  afterAll(async () => {
    await node?.dispose();
  });

  it("starts conversations and checks reachability by name", async () => {
    const aliceWallet = Wallet.createRandom();
    const erinWallet = Wallet.createRandom();
    await ens.setAddress("alice.eth", aliceWallet.address);
    await ens.setAddress("erin.eth", erinWallet.address);
    try {
      const aliceClient = await Client.create(aliceWallet, { apiUrl: node.url });
      const erin = await Client.create(erinWallet, { apiUrl: node.url, nameResolver: resolver() });

      expect(await erin.canMessage("alice.eth")).toBe(true);
      expect(await erin.canMessage(["alice.eth", aliceWallet.address, "bob.eth"])).toEqual([true, true, false]);
      expect(await Client.canMessage("Alice.eth", { apiUrl: node.url, nameResolver: resolver() })).toBe(true);

      const conversation = await erin.conversations.newConversation("alice.eth");
      expect(conversation.peerAddress).toBe(aliceWallet.address);
      await conversation.send("hello by name");
      const [received] = await aliceClient.conversations.list();
      expect(received.peerAddress).toBe(erinWallet.address);
      expect((await received.messages()).map((m) => m.content)).toEqual(["hello by name"]);
      // The same conversation again, by name or address.
      expect((await erin.conversations.newConversation(aliceWallet.address)).topic).toBe(conversation.topic);

      await expect(erin.conversations.newConversation("nobody.eth")).rejects.toBeInstanceOf(NameNotFoundError);
      await expect(erin.canMessage("nobody.eth")).rejects.toMatchObject({ code: "name_not_found" });
      await expect(erin.conversations.newConversation("alice..eth")).rejects.toBeInstanceOf(InvalidNameError);
      // A mistyped address stays an address error, never a name lookup.
      await expect(erin.conversations.newConversation("0x1234")).rejects.toBeInstanceOf(InvalidAddressInputError);
    } finally {
      await ens.setAddress("alice.eth", alice);
    }
  });

  it("refuses a name without a resolver, with a clear error", async () => {
    const frank = await Client.create(Wallet.createRandom(), { apiUrl: node.url });
    const error = await frank.conversations.newConversation("alice.eth").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoNameResolverError);
    expect((error as NoNameResolverError).code).toBe("no_name_resolver");
    expect((error as Error).message).toContain("nameResolver");
    await expect(frank.canMessage("alice.eth")).rejects.toBeInstanceOf(NoNameResolverError);
    await expect(Client.canMessage("alice.eth", { apiUrl: node.url })).rejects.toBeInstanceOf(NoNameResolverError);
  });

  it("reports a down RPC on newConversation with a NameRpcError, and never guesses an address", async () => {
    const rpcUrl = await closedPortUrl();
    const gina = await Client.create(Wallet.createRandom(), { apiUrl: node.url, nameResolver: resolver({ rpcUrl }) });
    const error = await gina.conversations.newConversation("alice.eth").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NameRpcError);
    expect((error as Error).message).toContain(rpcUrl);
    expect(await gina.conversations.list()).toEqual([]);
  });
});
