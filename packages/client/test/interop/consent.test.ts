import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningNode } from "../../../../test/support/runningNode.js";
import { Client } from "../../src/index.js";
import { node, ourClient, sdkClient, Wallet } from "../support/peers.js";

let xmtpNode: RunningNode;
beforeAll(async () => {
  xmtpNode = await node();
});
afterAll(async () => {
  await xmtpNode?.dispose();
});

describe("consent (private preferences) with the public SDK", () => {
  it("the SDK reads what we allow and deny, for the same wallet", async () => {
    const wallet = Wallet.createRandom();
    const ours = await ourClient(xmtpNode.url, wallet);
    const friend = Wallet.createRandom().address;
    const spammer = Wallet.createRandom().address;
    await ours.contacts.allow([friend]);
    await ours.contacts.deny([spammer]);
    expect([ours.contacts.consentState(friend), ours.contacts.isDenied(spammer)]).toEqual(["allowed", true]);

    const sameWalletInSdk = await sdkClient(xmtpNode.url, wallet);
    await sameWalletInSdk.contacts.refreshConsentList();
    expect(sameWalletInSdk.contacts.consentState(friend)).toBe("allowed");
    expect(sameWalletInSdk.contacts.isDenied(spammer)).toBe(true);
    expect(sameWalletInSdk.contacts.consentState(Wallet.createRandom().address)).toBe("unknown");
  });

  it("we read what the SDK allows and denies; later entries win", async () => {
    const wallet = Wallet.createRandom();
    const theirs = await sdkClient(xmtpNode.url, wallet);
    const a = Wallet.createRandom().address;
    const b = Wallet.createRandom().address;
    await theirs.contacts.allow([a, b]);
    await theirs.contacts.deny([b]);
    const ours = await Client.create(wallet, { apiUrl: xmtpNode.url });
    await ours.contacts.refreshConsentList();
    expect([ours.contacts.consentState(a), ours.contacts.consentState(b)]).toEqual(["allowed", "denied"]);
    expect(ours.contacts.isAllowed(a.toLowerCase())).toBe(true);
  });

  it("starting a conversation allows the peer, a first reply the starter (docs/protocol/messages.md §5)", async () => {
    const ours = await ourClient(xmtpNode.url);
    const theirs = await sdkClient(xmtpNode.url);
    const conversation = await ours.conversations.newConversation(theirs.address);
    expect(conversation.consentState).toBe("allowed");

    const starter = await sdkClient(xmtpNode.url);
    const started = await starter.conversations.newConversation(ours.address);
    await started.send("hi");
    const received = (await ours.conversations.list()).find((c) => c.peerAddress === starter.address)!;
    expect(received.consentState).toBe("unknown");
    await received.send("hello");
    expect(received.consentState).toBe("allowed");
    const reloaded = await Client.create(ours.wallet, { apiUrl: xmtpNode.url });
    await reloaded.contacts.refreshConsentList();
    expect(reloaded.contacts.consentState(starter.address)).toBe("allowed");
    expect(reloaded.contacts.consentState(theirs.address)).toBe("allowed");
  });
});
