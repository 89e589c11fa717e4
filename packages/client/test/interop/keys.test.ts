import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getBytes, Wallet, type BaseWallet } from "ethers";
import type { RunningNode } from "../../../../test/support/runningNode.js";
import { encodeContactBundleV2, generatePrivateKeyBundleV1, userKeysFromBundle } from "@xmtp-ts/crypto";
import { Client } from "../../src/index.js";
import { node, ourClient, sdk, sdkClient } from "../support/peers.js";

let xmtpNode: RunningNode;
beforeAll(async () => {
  xmtpNode = await node();
});
afterAll(async () => {
  await xmtpNode?.dispose();
});

async function envelopeCount(topic: string): Promise<number> {
  const response = await fetch(`${xmtpNode.url}/message/v1/query`, {
    method: "POST",
    body: JSON.stringify({ contentTopics: [topic], pagingInfo: { limit: 100 } }),
  });
  return ((await response.json()).envelopes ?? []).length;
}

/** Counts the texts a wallet is asked to sign. */
function countingWallet(wallet: BaseWallet) {
  const texts: string[] = [];
  return {
    texts,
    getAddress: async () => wallet.address,
    signMessage: async (message: string) => (texts.push(message), wallet.signMessage(message)),
  };
}

describe("identity and keys on the network", () => {
  it("a new identity costs two signatures; reloading costs one and finds the same keys, contact and conversations", async () => {
    const wallet = Wallet.createRandom();
    const first = countingWallet(wallet);
    const ours = await Client.create(first, { apiUrl: xmtpNode.url });
    expect(first.texts.map((t) => t.split("\n")[0])).toEqual(["XMTP : Create Identity", "XMTP : Enable Identity"]);
    const peer = await sdkClient(xmtpNode.url);
    const conversation = await ours.conversations.newConversation(peer.address);
    await conversation.send("remember me");
    const contactTopic = `/xmtp/0/contact-${wallet.address}/proto`;
    expect(await envelopeCount(contactTopic)).toBe(2);

    const second = countingWallet(wallet);
    const reloaded = await Client.create(second, { apiUrl: xmtpNode.url });
    expect(second.texts.map((t) => t.split("\n")[0])).toEqual(["XMTP : Enable Identity"]);
    expect(Buffer.from(reloaded.exportKeyBundle()).equals(Buffer.from(ours.exportKeyBundle()))).toBe(true);
    expect(await envelopeCount(contactTopic)).toBe(2); // unchanged contact: nothing published
    const [again] = await reloaded.conversations.list();
    expect(again.topic).toBe(conversation.topic);
    expect((await again.messages()).map((m) => m.content)).toEqual(["remember me"]);
  });

  it("the SDK loads keys we created, and we load keys the SDK created", async () => {
    const wallet = Wallet.createRandom();
    const ours = await ourClient(xmtpNode.url, wallet);
    const theirs = await sdkClient(xmtpNode.url, wallet);
    expect(Buffer.from((await theirs.keystore.getPrivateKeyBundle()).encode()).equals(Buffer.from(ours.exportKeyBundle()))).toBe(true);

    const sdkWallet = Wallet.createRandom();
    const sdkFirst = await sdkClient(xmtpNode.url, sdkWallet);
    const oursAfter = await ourClient(xmtpNode.url, sdkWallet);
    expect(Buffer.from(oursAfter.exportKeyBundle()).equals(Buffer.from((await sdkFirst.keystore.getPrivateKeyBundle()).encode()))).toBe(true);
  });

  it("exported keys work without a wallet, in our client and in the SDK", async () => {
    const wallet = Wallet.createRandom();
    const ours = await ourClient(xmtpNode.url, wallet);
    const exported = ours.exportKeyBundle();
    const imported = await Client.create(null, { apiUrl: xmtpNode.url, privateKeyOverride: exported });
    expect(imported.address).toBe(wallet.address);
    const sdkImported = await sdk.Client.create(null, { apiUrl: xmtpNode.url, env: "local", privateKeyOverride: exported });
    expect(sdkImported.address).toBe(wallet.address);
    const sdkKeys = await sdk.Client.getKeys(Wallet.createRandom(), { apiUrl: xmtpNode.url, env: "local" });
    const fromSdk = await Client.create(null, { apiUrl: xmtpNode.url, privateKeyOverride: sdkKeys });
    expect(await Client.canMessage(fromSdk.address, { apiUrl: xmtpNode.url })).toBe(true);
  });

  it("refuses keys that belong to another wallet than the signer", async () => {
    const ours = await ourClient(xmtpNode.url);
    await expect(Client.create(Wallet.createRandom(), { apiUrl: xmtpNode.url, privateKeyOverride: ours.exportKeyBundle() })).rejects.toThrow(
      /belong to/,
    );
  });

  it("accepts ethers, viem-style and plain signers, and refuses a signer that signs as someone else", async () => {
    const wallet = Wallet.createRandom();
    const viemAccount = {
      address: wallet.address,
      type: "local",
      signMessage: async ({ message }: { message: string }) => wallet.signMessage(message),
    };
    const viaViem = await Client.create(viemAccount, { apiUrl: xmtpNode.url });
    const walletClient = {
      account: { address: wallet.address },
      signMessage: async ({ message }: { message: string; account: unknown }) => wallet.signMessage(message),
    };
    const viaWalletClient = await Client.create(walletClient, { apiUrl: xmtpNode.url });
    const plain = { getAddress: () => wallet.address, signMessage: async (m: string) => getBytes(await wallet.signMessage(m)) };
    const viaPlain = await Client.create(plain, { apiUrl: xmtpNode.url });
    expect([viaViem.address, viaWalletClient.address, viaPlain.address]).toEqual([wallet.address, wallet.address, wallet.address]);

    const liar = { getAddress: async () => wallet.address, signMessage: (m: string) => Wallet.createRandom().signMessage(m) };
    await expect(Client.create(liar, { apiUrl: xmtpNode.url })).rejects.toThrow(/signed as 0x[0-9a-fA-F]{40}, not as/);
  });

  it("static canMessage needs no client; canMessage takes one address or many", async () => {
    const ours = await ourClient(xmtpNode.url);
    const nobody = Wallet.createRandom().address;
    expect(await Client.canMessage(ours.address, { apiUrl: xmtpNode.url })).toBe(true);
    expect(await Client.canMessage(nobody, { apiUrl: xmtpNode.url })).toBe(false);
    expect(await ours.canMessage([ours.address, nobody, ours.address.toLowerCase()])).toEqual([true, false, true]);
    await expect(ours.canMessage("0x123")).rejects.toThrow(/not an Ethereum address/);
  });

  it("ignores a contact bundle on a wallet's topic that another wallet signed", async () => {
    const owner = Wallet.createRandom();
    const ownerClient = await Client.create(owner, { apiUrl: xmtpNode.url, skipContactPublishing: true });
    // The node lets only the owner publish there, so the forgery is the owner's own: keys vouched for by someone else.
    const impostorKeys = userKeysFromBundle(await generatePrivateKeyBundleV1(async (t) => getBytes(await Wallet.createRandom().signMessage(t))));
    await ownerClient.api.publish([
      { contentTopic: `/xmtp/0/contact-${owner.address}/proto`, timestampNs: BigInt(Date.now()) * 1_000_000n, message: encodeContactBundleV2(impostorKeys.signedBundle) },
    ]);
    const peer = await ourClient(xmtpNode.url);
    expect(await peer.canMessage(owner.address)).toBe(false);
    expect(await peer.canMessage([owner.address])).toEqual([false]);
    await expect(peer.conversations.newConversation(owner.address)).rejects.toThrow(/is not on the XMTP network/);
    expect(await sdk.Client.canMessage(owner.address, { apiUrl: xmtpNode.url, env: "local" })).toBe(false);
  });
});
