// The chat app's non-DOM logic (apps/chat/src), in Node: wallets, address input, error wording.
import { Wallet, getBytes } from "ethers";
import { describe, expect, it } from "vitest";
import {
  connectBrowserWallet,
  developmentWallet,
  forgetDevelopmentWallet,
  savedDevelopmentWallet,
  type Eip1193Provider,
} from "../../apps/chat/src/wallets.js";
import { explainError, parsePeerAddress } from "../../apps/chat/src/xmtp.js";

class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

describe("development wallet", () => {
  it("is created once, kept in storage, and signs exactly as an ethers wallet with that key would", async () => {
    const storage = new MemoryStorage();
    expect(savedDevelopmentWallet(storage)).toBeUndefined();
    const wallet = developmentWallet(storage);
    expect(developmentWallet(storage).address).toBe(wallet.address);
    const key = storage.getItem(storage.key(0)!)!;
    const twin = new Wallet(key);
    expect(twin.address).toBe(wallet.address);
    const text = "XMTP : Enable Identity\n0a0b\n\nFor more info: https://xmtp.org/signatures/";
    expect(await wallet.signer.signMessage(text)).toBe(await twin.signMessage(text));

    forgetDevelopmentWallet(storage);
    expect(savedDevelopmentWallet(storage)).toBeUndefined();
    expect(developmentWallet(storage).address).not.toBe(wallet.address);
  });

  it("treats a corrupted stored key as no wallet", () => {
    const storage = new MemoryStorage();
    developmentWallet(storage);
    storage.setItem(storage.key(0)!, "0xnot-a-key");
    expect(savedDevelopmentWallet(storage)).toBeUndefined();
  });
});

function provider(handler: (method: string, params: unknown[]) => Promise<unknown>): Eip1193Provider {
  return { request: ({ method, params }) => handler(method, params ?? []) };
}

describe("browser wallet (EIP-1193)", () => {
  it("uses the first account and personal_signs the message as hex bytes", async () => {
    const ethersWallet = Wallet.createRandom();
    const seen: unknown[][] = [];
    const connected = await connectBrowserWallet(
      provider(async (method, params) => {
        seen.push([method, ...params]);
        if (method === "eth_requestAccounts") return [ethersWallet.address.toLowerCase()];
        return ethersWallet.signMessage(getBytes(params[0] as string));
      }),
    );
    expect(connected.address).toBe(ethersWallet.address);
    const signature = await connected.signer.signMessage("hello ✓");
    expect(signature).toBe(await ethersWallet.signMessage("hello ✓"));
    expect(seen[1]).toEqual(["personal_sign", "0x" + Buffer.from("hello ✓").toString("hex"), ethersWallet.address]);
  });

  it("explains a declined request", async () => {
    const declined = Object.assign(new Error("User rejected the request."), { code: 4001 });
    const error = await connectBrowserWallet(provider(async () => Promise.reject(declined))).catch((e: unknown) => e);
    expect(explainError(error, "http://node")).toBe("You declined to share an account in your wallet.");
  });

  it("rejects a wallet that shares no account, or returns a malformed signature", async () => {
    await expect(connectBrowserWallet(provider(async () => []))).rejects.toThrow("did not share an Ethereum account");
    const address = Wallet.createRandom().address;
    const forged = await connectBrowserWallet(
      provider(async (method) => (method === "eth_requestAccounts" ? [address] : "0xdeadbeef")),
    );
    await expect(forged.signer.signMessage("x")).rejects.toThrow("not 65 bytes of hex");
  });
});

describe("address input", () => {
  const address = Wallet.createRandom().address;

  it("accepts any case and returns the checksummed address", () => {
    expect(parsePeerAddress(`  ${address.toLowerCase()} `)).toBe(address);
  });

  it("rejects non-addresses and wrong checksums with a plain explanation", () => {
    expect(() => parsePeerAddress("vitalik.eth")).toThrow('"vitalik.eth" is not an Ethereum address');
    const letter = address.slice(2).search(/[a-fA-F]/) + 2;
    const flipped = address[letter] === address[letter].toUpperCase() ? address[letter].toLowerCase() : address[letter].toUpperCase();
    const typo = address.slice(0, letter) + flipped + address.slice(letter + 1);
    expect(() => parsePeerAddress(typo)).toThrow("wrong checksum");
  });
});

describe("explainError", () => {
  it("says the node cannot be reached, for browser and Node fetch failures and the client's UNAVAILABLE", () => {
    for (const error of [
      new TypeError("Failed to fetch"),
      new Error("query failed", { cause: new TypeError("fetch failed") }),
      Object.assign(new Error("query: connection refused"), { code: 14 }),
    ]) {
      expect(explainError(error, "http://localhost:5555")).toContain("Cannot reach the XMTP node at http://localhost:5555");
    }
  });

  it("passes on what the node said", () => {
    const denied = Object.assign(new Error("publish: wallet denied (code 7)"), { code: 7, serverMessage: "wallet denied" });
    expect(explainError(denied, "u")).toBe("The node refused: wallet denied");
  });
});
