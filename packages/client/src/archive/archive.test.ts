import { describe, expect, it } from "vitest";
import { Wallet, getBytes } from "ethers";
import {
  encryptKeyBundleForStorage,
  generatePrivateKeyBundleV1,
  privateStoreKeyBundleTopic,
  userKeysFromBundle,
  type UserKeys,
} from "@xmtp-ts/crypto";
import { ArchiveError } from "./ArchiveError.js";
import { ArchiveMessageApi } from "./ArchiveMessageApi.js";
import { readArchiveHeader, sealArchive, type ArchivedTopic } from "./format.js";
import { archiveKeysFromWallet, readArchive } from "./readArchive.js";

async function user(): Promise<{ wallet: Wallet; keys: UserKeys; signText: (t: string) => Promise<Uint8Array> }> {
  const wallet = Wallet.createRandom() as unknown as Wallet;
  const signText = async (text: string) => getBytes(await wallet.signMessage(text));
  return { wallet, signText, keys: userKeysFromBundle(await generatePrivateKeyBundleV1(signText)) };
}

const alice = await user();
const bob = await user();

function topicsFor(count: number): ArchivedTopic[] {
  const topic = "/xmtp/0/m-" + "ab".repeat(32) + "/proto";
  return [
    {
      topic,
      envelopes: Array.from({ length: count }, (_, i) => ({ contentTopic: topic, timestampNs: 1_700_000_000_000_000_000n + BigInt(i), message: new Uint8Array([i, i + 1, 255]) })),
    },
    { topic: "/xmtp/0/invite-x/proto", envelopes: [{ contentTopic: "/xmtp/0/invite-x/proto", timestampNs: 5n, message: new Uint8Array(300).fill(7) }] },
  ];
}

async function archiveOf(keys: UserKeys, count = 3, keyBundle?: Uint8Array): Promise<Uint8Array> {
  return sealArchive({ keys, topics: topicsFor(count), keyBundle, createdAt: new Date(1_700_000_000_000) });
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArchiveError);
  return (error as ArchiveError).code;
}

describe("inbox archive format", () => {
  it("round-trips every envelope, byte for byte and in order, with a readable header", async () => {
    const archive = await archiveOf(alice.keys, 250);
    const header = readArchiveHeader(archive);
    expect(header).toMatchObject({ version: 1, walletAddress: alice.keys.walletAddress, topicCount: 2, envelopeCount: 251 });
    expect(header.createdAt.getTime()).toBe(1_700_000_000_000);
    const opened = await readArchive(archive, alice.keys);
    expect(opened.topics).toEqual(topicsFor(250));
    // The exported-keys form opens it too.
    const again = await readArchive(archive, (await import("@xmtp-ts/crypto")).encodePrivateKeyBundle(alice.keys.bundle));
    expect(again.topics.length).toBe(2);
    // The body is sealed: no message bytes appear in the file.
    expect(Buffer.from(archive).includes(Buffer.from(new Uint8Array(300).fill(7)))).toBe(false);
  });

  it("refuses a flipped byte in the header, the body length or the body, each with its code", async () => {
    const archive = await archiveOf(alice.keys);
    const headerEnd = archive.indexOf(0x7d) + 1; // the JSON header's closing brace
    const flip = (at: number) => {
      const copy = archive.slice();
      copy[at] ^= 0x01;
      return copy;
    };
    expect(await refusal(readArchive(flip(0), alice.keys))).toBe("archive_bad_magic");
    expect(await refusal(readArchive(flip(9), alice.keys))).toBe("archive_unsupported_version");
    expect(await refusal(readArchive(flip(20), alice.keys))).toBe("archive_corrupt"); // inside the JSON: its SHA-256 catches it
    expect(await refusal(readArchive(flip(headerEnd + 5), alice.keys))).toBe("archive_corrupt"); // the header's SHA-256 itself
    expect(await refusal(readArchive(flip(archive.length - 40), alice.keys))).toBe("archive_tampered");
    expect(await refusal(readArchive(flip(archive.length - 1), alice.keys))).toBe("archive_tampered");
  });

  it("refuses a header rewritten with a matching SHA-256: the sealed body names its header", async () => {
    const archive = await archiveOf(alice.keys);
    // Same user and counts, another created-at: a genuine header (its SHA-256 matches) spliced onto the first body.
    const other = await sealArchive({ keys: alice.keys, topics: topicsFor(3), createdAt: new Date(1_800_000_000_000) });
    const bodyAt = (a: Uint8Array) => bodyLengthAt(a) + 8;
    const spliced = new Uint8Array([...other.subarray(0, bodyLengthAt(other)), ...archive.subarray(bodyLengthAt(archive))]);
    expect(bodyAt(spliced)).toBe(bodyAt(other));
    expect(readArchiveHeader(spliced).createdAt.getTime()).toBe(1_800_000_000_000);
    expect(await refusal(readArchive(spliced, alice.keys))).toBe("archive_tampered");
    expect((await readArchive(other, alice.keys)).topics.length).toBe(2);
  });

  it("refuses another user's keys", async () => {
    const archive = await archiveOf(alice.keys);
    expect(await refusal(readArchive(archive, bob.keys))).toBe("archive_wrong_keys");
  });

  it("refuses a truncated archive wherever it is cut, and trailing bytes", async () => {
    const archive = await archiveOf(alice.keys);
    for (const length of [0, 4, 12, 30, archive.length - 200, archive.length - 1]) {
      const code = await refusal(readArchive(archive.subarray(0, length), alice.keys));
      expect(code, `cut at ${length}`).toBe("archive_truncated");
    }
    expect(await refusal(readArchive(new Uint8Array([...archive, 0]), alice.keys))).toBe("archive_corrupt");
  });

  it("opens with the wallet alone through the key bundle it carries", async () => {
    const stored = await encryptKeyBundleForStorage(alice.keys.bundle, alice.signText);
    const archive = await archiveOf(alice.keys, 3, stored);
    const keys = await archiveKeysFromWallet(archive, alice.wallet);
    expect(keys.walletAddress).toBe(alice.keys.walletAddress);
    expect((await readArchive(archive, keys)).topics.length).toBe(2);
    expect(await refusal(archiveKeysFromWallet(archive, bob.wallet))).toBe("archive_wrong_keys");
    expect(await refusal(archiveKeysFromWallet(await archiveOf(alice.keys), alice.wallet))).toBe("archive_no_keys");
    expect(privateStoreKeyBundleTopic(alice.keys.walletAddress)).toContain("privatestore-");
  });
});

function bodyLengthAt(archive: Uint8Array): number {
  const headerLength = new DataView(archive.buffer, archive.byteOffset).getUint32(10);
  return 14 + headerLength + 32;
}

describe("ArchiveMessageApi", () => {
  it("pages like a node: cursors, directions, time ranges; refuses writes", async () => {
    const [topic] = topicsFor(7);
    const api = new ArchiveMessageApi([topic]);
    const pages: number[][] = [];
    let cursor;
    do {
      const page = await api.query({ contentTopic: topic.topic, pageSize: 3, cursor });
      pages.push(page.envelopes.map((e) => e.message[0]));
      cursor = page.cursor;
    } while (cursor);
    expect(pages).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    const descending = await api.queryAll({ contentTopic: topic.topic, direction: "descending", pageSize: 2 });
    expect(descending.map((e) => e.message[0])).toEqual([6, 5, 4, 3, 2, 1, 0]);
    const ranged = await api.queryAll({ contentTopic: topic.topic, startTimeNs: topic.envelopes[2].timestampNs, endTimeNs: topic.envelopes[4].timestampNs });
    expect(ranged.map((e) => e.message[0])).toEqual([2, 3, 4]);
    expect(await api.queryAll({ contentTopic: "/xmtp/0/none/proto" })).toEqual([]);
    expect(await refusal(api.publish())).toBe("archive_read_only");
  });
});
