import { keccak256 } from "@xmtp-ts/crypto";
import { describe, expect, it } from "vitest";
import { NameDirectory, NAME_RETRY_MS, type EthCall } from "./effects/names.js";
import {
  avatarUrlOf,
  decodeAddress,
  decodeString,
  ENS_REGISTRY,
  nameLookupProblem,
  namehash,
  parseEthRpcUrl,
  peerLabel,
  RESOLVER_SELECTOR,
  resolverCall,
  TEXT_SELECTOR,
  textCall,
} from "./names.js";

const PEER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

function selector(signature: string): string {
  return Array.from(keccak256(new TextEncoder().encode(signature)).slice(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A string as a contract returns it: offset, length, bytes padded to whole words. */
function abiString(value: string): string {
  const bytes = Array.from(new TextEncoder().encode(value), (b) => b.toString(16).padStart(2, "0")).join("");
  return "0x" + (32).toString(16).padStart(64, "0") + (bytes.length / 2).toString(16).padStart(64, "0") + bytes.padEnd(Math.ceil(bytes.length / 64) * 64, "0");
}

describe("ENS calls for avatars", () => {
  it("uses the selectors of resolver(bytes32) and text(bytes32,string)", () => {
    expect(RESOLVER_SELECTOR).toBe(selector("resolver(bytes32)"));
    expect(TEXT_SELECTOR).toBe(selector("text(bytes32,string)"));
  });

  it("computes EIP-137 namehashes", () => {
    expect(namehash("")).toBe("0".repeat(64));
    expect(namehash("eth")).toBe("93cdeb708b7545dc668eb9280176169d1c33cfd8ed6f04690a0bcc88a93fc4ae");
    expect(namehash("foo.eth")).toBe("de9b09fd7c5f901e23a3f19fecc54828e9c848539801e86591bd9801b019f84f");
  });

  it("encodes the calls and decodes their answers", () => {
    const node = namehash("foo.eth");
    expect(resolverCall(node)).toBe(`0x0178b8bf${node}`);
    // text(node, "avatar"): node, offset 0x40, length 6, "avatar" padded to a word.
    expect(textCall(node, "avatar")).toBe(
      `0x59d1d43c${node}${"40".padStart(64, "0")}${"6".padStart(64, "0")}${"617661746172".padEnd(64, "0")}`,
    );
    expect(decodeAddress("0x" + "0".repeat(24) + PEER.slice(2).toLowerCase())).toBe(PEER.toLowerCase());
    expect(decodeAddress("0x" + "0".repeat(64))).toBeNull();
    expect(decodeAddress("0x")).toBeNull();
    const long = "https://example.com/" + "a".repeat(70) + "/avatar.png";
    expect(decodeString(abiString(long))).toBe(long);
    expect(decodeString(abiString(""))).toBe("");
    expect(decodeString("0x")).toBe("");
    expect(decodeString(abiString("cut short").slice(0, 140))).toBe("");
  });
});

describe("what the app shows and loads", () => {
  it("loads only https and data: image avatars", () => {
    expect(avatarUrlOf("https://example.com/a.png")).toBe("https://example.com/a.png");
    expect(avatarUrlOf(" data:image/svg+xml;base64,PHN2Zy8+ ")).toBe("data:image/svg+xml;base64,PHN2Zy8+");
    for (const refused of ["http://example.com/a.png", "ipfs://Qm…", "eip155:1/erc721:0xabc/1", "javascript:alert(1)", "data:text/html,<b>", "", null, undefined]) {
      expect(avatarUrlOf(refused)).toBeUndefined();
    }
    expect(avatarUrlOf("data:image/png;base64," + "A".repeat(300_000))).toBeUndefined();
  });

  it("labels a peer by its verified name, else its short address", () => {
    expect(peerLabel(PEER, { name: "alice.eth" })).toBe("alice.eth");
    expect(peerLabel(PEER, { name: null })).toBe("0x5aAe…eAed");
    expect(peerLabel(PEER, undefined)).toBe("0x5aAe…eAed");
  });

  it("takes an http(s) RPC URL or none", () => {
    expect(parseEthRpcUrl("  ")).toBe("");
    expect(parseEthRpcUrl(" http://127.0.0.1:8545 ")).toBe("http://127.0.0.1:8545");
    expect(() => parseEthRpcUrl("localhost:8545")).toThrow(/http:\/\/ or https:\/\//);
    expect(() => parseEthRpcUrl("not a url")).toThrow(/is not a URL/);
  });

  it("says why a typed name cannot be used", () => {
    expect(nameLookupProblem("bob.eth", "no-rpc")).toMatch(/needs an Ethereum JSON-RPC.*Advanced/);
    expect(nameLookupProblem("nobody.eth", null)).toBe("nobody.eth does not point to an address: no such name, or it has no address record.");
    expect(nameLookupProblem("bob..eth", Object.assign(new Error("x"), { name: "InvalidNameError" }))).toMatch(/is not a valid name/);
    expect(nameLookupProblem("bob.eth", Object.assign(new Error("x"), { rpcUrl: "http://rpc", reason: "ECONNREFUSED" }))).toBe(
      "Could not look up bob.eth: the Ethereum JSON-RPC at http://rpc failed (ECONNREFUSED).",
    );
  });
});

describe("NameDirectory", () => {
  const RESOLVER = "0x" + "12".repeat(20);

  function directory(options: { names: Record<string, string | null | Error>; avatars?: Record<string, string>; failCalls?: boolean }) {
    const calls: string[] = [];
    const timers: (() => void)[] = [];
    let changes = 0;
    const ethCall: EthCall = async (to, data) => {
      calls.push(`${to}:${data.slice(0, 10)}`);
      if (options.failCalls) throw new Error("execution reverted");
      if (to === ENS_REGISTRY) return "0x" + "0".repeat(24) + RESOLVER.slice(2);
      const node = data.slice(10, 74);
      const name = Object.keys(options.avatars ?? {}).find((n) => namehash(n) === node);
      return abiString(name ? options.avatars![name] : "");
    };
    const names = new NameDirectory("http://rpc", {
      resolver: {
        async lookup(address) {
          const answer = options.names[address];
          if (answer instanceof Error) throw answer;
          return answer ?? null;
        },
        async resolve() {
          return null;
        },
      },
      ethCall,
      onChange: () => changes++,
      setTimer: (run) => timers.push(run),
    });
    return { names, calls, timers, changes: () => changes };
  }

  async function settled(): Promise<void> {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  }

  it("looks each peer up once, with its avatar when it has a usable one", async () => {
    const other = "0x" + "34".repeat(20);
    const { names, calls, changes } = directory({
      names: { [PEER]: "alice.eth", [other]: "bob.eth" },
      avatars: { "alice.eth": "https://example.com/alice.png", "bob.eth": "ipfs://Qm" },
    });
    names.want([PEER, other, PEER]);
    names.want([PEER]);
    await settled();
    expect(names.get(PEER)).toEqual({ name: "alice.eth", avatarUrl: "https://example.com/alice.png" });
    expect(names.get(other)).toEqual({ name: "bob.eth" });
    expect(changes()).toBe(2);
    expect(calls.length).toBe(4);
  });

  it("reads no avatar for a peer without a name, and keeps the name when the avatar cannot be read", async () => {
    const other = "0x" + "34".repeat(20);
    const { names, calls } = directory({ names: { [PEER]: null, [other]: "bob.eth" }, failCalls: true });
    names.want([PEER, other]);
    await settled();
    expect(names.get(PEER)).toEqual({ name: null });
    expect(names.get(other)).toEqual({ name: "bob.eth" });
    expect(calls).toEqual([`${ENS_REGISTRY}:0x0178b8bf`]);
  });

  it("shows the address after a failed lookup and tries again after a while", async () => {
    const answers: Record<string, string | null | Error> = { [PEER]: new Error("ECONNREFUSED") };
    const { names, timers } = directory({ names: answers });
    names.want([PEER]);
    await settled();
    expect(names.get(PEER)).toBeUndefined();
    expect(timers.length).toBe(1);
    names.want([PEER]);
    await settled();
    expect(timers.length).toBe(1);
    answers[PEER] = "alice.eth";
    timers[0]();
    names.want([PEER]);
    await settled();
    expect(names.get(PEER)).toEqual({ name: "alice.eth" });
    expect(NAME_RETRY_MS).toBe(60_000);
  });
});
