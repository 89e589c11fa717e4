// Interop: identities, contact discovery, key reload and consent, as the public SDK @xmtp/xmtp-js 13.0.4 does them
// against a real xmtp-node process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromBinary, ContactBundleSchema, EncryptedPrivateKeyBundleSchema } from "@xmtp-ts/proto";
import { fromBase64 } from "@xmtp-ts/crypto";
import type { RunningNode } from "../../../../test/support/runningNode.js";
import { createClient, newWallet, rawQuery, sdk, startInteropNode, topics, type SdkClient } from "./sdk.js";

let node: RunningNode;

beforeAll(async () => {
  node = await startInteropNode();
});

afterAll(async () => {
  await node?.dispose();
});

function contactVersion(messageBase64: string): string | undefined {
  return fromBinary(ContactBundleSchema, fromBase64(messageBase64)).version.case;
}

describe("identity creation", () => {
  it("stores the encrypted key bundle and publishes a v1 then a v2 contact bundle", async () => {
    const wallet = newWallet();
    const client = await createClient(node, wallet);
    expect(client.address).toBe(wallet.address);

    const stored = await rawQuery(node, topics.privateStore(wallet.address));
    expect(stored).toHaveLength(1);
    expect(fromBinary(EncryptedPrivateKeyBundleSchema, fromBase64(stored[0].message)).version.case).toBe("v1");

    const contacts = await rawQuery(node, topics.contact(wallet.address));
    // Newest first: the v2 bundle was published after the v1 bundle, whatever their timestamps are.
    expect(contacts.map((e) => contactVersion(e.message))).toEqual(["v2", "v1"]);
    for (const envelope of contacts) expect(envelope.timestampNs).toMatch(/^[1-9][0-9]{18}$/);
  });

  it("works with an apiUrl ending in a slash, whose requests go to //message/v1/…", async () => {
    const wallet = newWallet();
    const client = await createClient(node, wallet, { apiUrl: `${node.url}/` });
    expect(client.address).toBe(wallet.address);
    expect(await rawQuery(node, topics.contact(wallet.address))).toHaveLength(2);
    expect(await sdk.Client.canMessage(wallet.address, { apiUrl: `${node.url}/`, env: "local" })).toBe(true);
  });

  it("publishes only a v1 contact bundle with publishLegacyContact", async () => {
    const wallet = newWallet();
    await createClient(node, wallet, { publishLegacyContact: true });
    const contacts = await rawQuery(node, topics.contact(wallet.address));
    expect(contacts.map((e) => contactVersion(e.message))).toEqual(["v1"]);
  });
});

describe("canMessage", () => {
  let asker: SdkClient;
  let registered: string;
  let legacyRegistered: string;
  const unregistered = newWallet().address;

  beforeAll(async () => {
    const registeredWallet = newWallet();
    const legacyWallet = newWallet();
    [asker] = await Promise.all([
      createClient(node, newWallet()),
      createClient(node, registeredWallet),
      createClient(node, legacyWallet, { publishLegacyContact: true }),
    ]);
    registered = registeredWallet.address;
    legacyRegistered = legacyWallet.address;
  });

  it("answers for a single address", async () => {
    expect(await asker.canMessage(registered)).toBe(true);
    expect(await asker.canMessage(legacyRegistered)).toBe(true);
    expect(await asker.canMessage(unregistered)).toBe(false);
  });

  it("answers a batch in request order", async () => {
    expect(await asker.canMessage([registered, unregistered, legacyRegistered])).toEqual([true, false, true]);
    expect(await asker.canMessage([unregistered, registered])).toEqual([false, true]);
  });

  it("answers through the static Client.canMessage without a client or token", async () => {
    const options = { apiUrl: node.url, env: "local" as const };
    expect(await sdk.Client.canMessage(registered, options)).toBe(true);
    expect(await sdk.Client.canMessage(unregistered, options)).toBe(false);
    expect(await sdk.Client.canMessage([unregistered, registered, legacyRegistered], options)).toEqual([
      false,
      true,
      true,
    ]);
  });

  it("accepts an address in lower case", async () => {
    expect(await asker.canMessage(registered.toLowerCase())).toBe(true);
  });
});

describe("reloading keys from the network", () => {
  it("gives a second client of the same wallet the same identity, pre-key and conversations", async () => {
    const wallet = newWallet();
    const peerWallet = newWallet();
    const [first, peer] = await Promise.all([createClient(node, wallet), createClient(node, peerWallet)]);
    const conversation = await first.conversations.newConversation(peer.address);
    await conversation.send("before reload");

    const second = await createClient(node, wallet);
    expect(second.address).toBe(first.address);
    expect(Buffer.from(second.publicKeyBundle.toBytes())).toEqual(Buffer.from(first.publicKeyBundle.toBytes()));
    // A returning identity finds its own v2 bundle newest and publishes nothing more.
    expect(await rawQuery(node, topics.contact(wallet.address))).toHaveLength(2);
    expect(await rawQuery(node, topics.privateStore(wallet.address))).toHaveLength(1);

    const reloaded = await second.conversations.list();
    expect(reloaded.map((c) => c.topic)).toEqual([conversation.topic]);
    expect(reloaded[0].peerAddress).toBe(peer.address);
    const messages = await reloaded[0].messages();
    expect(messages.map((m) => m.content)).toEqual(["before reload"]);
    expect(messages[0].senderAddress).toBe(wallet.address);
  });
});

describe("consent", () => {
  it("records allow and deny on the network for a second client of the same wallet", async () => {
    const wallet = newWallet();
    const allowed = newWallet().address;
    const denied = newWallet().address;
    const untouched = newWallet().address;
    const first = await createClient(node, wallet);

    await first.contacts.allow([allowed]);
    await first.contacts.deny([denied]);
    expect(first.contacts.isAllowed(allowed)).toBe(true);
    expect(first.contacts.isDenied(denied)).toBe(true);
    expect(first.contacts.consentState(untouched)).toBe("unknown");

    const second = await createClient(node, wallet);
    await second.contacts.refreshConsentList();
    expect(second.contacts.isAllowed(allowed)).toBe(true);
    expect(second.contacts.isDenied(allowed)).toBe(false);
    expect(second.contacts.isDenied(denied)).toBe(true);
    expect(second.contacts.isAllowed(denied)).toBe(false);
    expect(second.contacts.consentState(untouched)).toBe("unknown");
  });

  it("applies consent actions in the order they were published", async () => {
    const wallet = newWallet();
    const flipped = newWallet().address;
    const restored = newWallet().address;
    const first = await createClient(node, wallet);
    await first.contacts.allow([flipped]);
    await first.contacts.deny([flipped]);
    await first.contacts.deny([restored]);
    await first.contacts.allow([restored]);

    const second = await createClient(node, wallet);
    await second.contacts.loadConsentList();
    expect(second.contacts.consentState(flipped)).toBe("denied");
    expect(second.contacts.consentState(restored)).toBe("allowed");
  });

  it("shows the peer as allowed after starting a conversation, on the wallet's other clients too", async () => {
    const wallet = newWallet();
    const peerWallet = newWallet();
    const [first] = await Promise.all([createClient(node, wallet), createClient(node, peerWallet)]);
    await first.conversations.newConversation(peerWallet.address);

    const second = await createClient(node, wallet);
    await second.contacts.refreshConsentList();
    expect(second.contacts.consentState(peerWallet.address)).toBe("allowed");
  });
});
