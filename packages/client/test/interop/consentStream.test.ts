// contacts.streamConsentList on a real node: entries from another installation of the wallet (the public SDK) and
// from ourselves arrive as they are published, update the list, and nothing published before the stream comes back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrivatePreferencesAction } from "@xmtp-ts/proto";
import type { RunningNode } from "../../../../test/support/runningNode.js";
import { node, ourClient, sdkClient, take, Wallet } from "../support/peers.js";

let xmtpNode: RunningNode;
beforeAll(async () => {
  xmtpNode = await node();
});
afterAll(async () => {
  await xmtpNode?.dispose();
});

/** "allow a,b" / "deny c" */
function describeAction(action: PrivatePreferencesAction): string {
  const { messageType } = action;
  if (messageType.case === "allowAddress") return `allow ${messageType.value.walletAddresses.join(",")}`;
  if (messageType.case === "denyAddress") return `deny ${messageType.value.walletAddresses.join(",")}`;
  return `other ${String(messageType.case)}`;
}

describe("streamConsentList", () => {
  it("yields and applies the SDK's entries for the same wallet, but not those made before it started", async () => {
    const wallet = Wallet.createRandom();
    const ours = await ourClient(xmtpNode.url, wallet);
    const sameWalletInSdk = await sdkClient(xmtpNode.url, wallet);
    const [before, friend, spammer] = [0, 1, 2].map(() => Wallet.createRandom().address);
    await sameWalletInSdk.contacts.allow([before]);

    const stream = await ours.contacts.streamConsentList();
    await sameWalletInSdk.contacts.allow([friend]);
    await sameWalletInSdk.contacts.deny([spammer]);
    const got = await take(stream, 2);
    expect(got.map(describeAction)).toEqual([`allow ${friend}`, `deny ${spammer}`]);
    expect(ours.contacts.consentState(friend)).toBe("allowed");
    expect(ours.contacts.isDenied(spammer)).toBe(true);
    // Only streamed, never loaded: the entry from before the stream is not known yet.
    expect(ours.contacts.consentState(before)).toBe("unknown");
    await stream.return();
    expect((await stream.next()).done).toBe(true);
  });

  it("yields our own entries without letting a late one undo a newer local change", async () => {
    const ours = await ourClient(xmtpNode.url);
    const peer = Wallet.createRandom().address;
    const stream = await ours.contacts.streamConsentList();
    await ours.contacts.allow([peer]);
    await ours.contacts.deny([peer]);
    const [first] = await take(stream, 1);
    expect(describeAction(first)).toBe(`allow ${peer}`);
    expect(ours.contacts.consentState(peer)).toBe("denied");
    const [second] = await take(stream, 1);
    expect(describeAction(second)).toBe(`deny ${peer}`);
    expect(ours.contacts.consentState(peer)).toBe("denied");
    await stream.return();
  });
});
