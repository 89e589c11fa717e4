// Opening an inbox archive offline: with the user's keys, or with the wallet alone (its one Enable-Identity
// signature opens the key bundle the archive carries in its header, docs/protocol/identity.md §5.2).
import { decodePrivateKeyBundle, decryptStoredKeyBundle, encodePrivateKeyBundle, userKeysFromBundle, type UserKeys } from "@xmtp-ts/crypto";
import type { Envelope } from "../api/types.js";
import { Client, type ClientOptions } from "../Client.js";
import { toWalletSigner, type AnySigner } from "../signer.js";
import { ArchiveError } from "./ArchiveError.js";
import { ArchiveMessageApi } from "./ArchiveMessageApi.js";
import { readArchiveHeader, unsealArchive, type ArchivedTopic, type InboxArchiveHeader } from "./format.js";

export interface OpenedInboxArchive {
  header: InboxArchiveHeader;
  keys: UserKeys;
  /** Every topic of the archive with its envelopes, in the order the exporting node gave them. */
  topics: ArchivedTopic[];
  /** The envelopes of one topic (empty if the archive has none). */
  envelopes(topic: string): Envelope[];
  /** A read-only MessageApi over the archive: queries answer from it, publish and subscribe throw. */
  messageApi(): ArchiveMessageApi;
  /**
   * A client for the archive's user reading the archive instead of a node: `conversations.list()`, `messages()`,
   * `contacts.consentState()` work offline, with the client's own decoding; anything that writes throws an
   * ArchiveError("archive_read_only").
   */
  openClient(options?: Pick<ClientOptions, "codecs">): Promise<Client>;
}

function keysOf(keys: UserKeys | Uint8Array): UserKeys {
  return keys instanceof Uint8Array ? userKeysFromBundle(decodePrivateKeyBundle(keys)) : keys;
}

/**
 * Opens an archive with the user's keys (a UserKeys, e.g. `client.keys`, or `client.exportKeyBundle()` bytes).
 * ArchiveError when it is damaged, altered, or another user's.
 */
export async function readArchive(archive: Uint8Array, userKeys: UserKeys | Uint8Array): Promise<OpenedInboxArchive> {
  const keys = keysOf(userKeys);
  const { header, topics } = await unsealArchive(archive, keys);
  const byTopic = new Map(topics.map((t) => [t.topic, t.envelopes]));
  return {
    header,
    keys,
    topics,
    envelopes: (topic) => byTopic.get(topic) ?? [],
    messageApi: () => new ArchiveMessageApi(topics),
    openClient: (options = {}) =>
      Client.create(null, {
        ...options,
        api: new ArchiveMessageApi(topics),
        apiUrl: `archive of ${header.walletAddress}`,
        privateKeyOverride: encodePrivateKeyBundle(keys.bundle),
        skipContactPublishing: true,
        parallelInvitations: false,
      }),
  };
}

/**
 * The archive user's keys from the key bundle in its header, opened with one signature of the wallet, as
 * `Client.create` opens the private store. ArchiveError("archive_wrong_keys") for another wallet,
 * ("archive_no_keys") when the archive carries no key bundle.
 */
export async function archiveKeysFromWallet(archive: Uint8Array, signer: AnySigner): Promise<UserKeys> {
  const header = readArchiveHeader(archive);
  const wallet = await toWalletSigner(signer);
  if (wallet.address !== header.walletAddress) {
    throw new ArchiveError("archive_wrong_keys", `the archive belongs to ${header.walletAddress}, not to the wallet ${wallet.address}`);
  }
  if (!header.keyBundle) {
    throw new ArchiveError("archive_no_keys", `the archive carries no key bundle of ${header.walletAddress}: open it with the exported keys`);
  }
  let keys: UserKeys;
  try {
    keys = userKeysFromBundle((await decryptStoredKeyBundle(header.keyBundle, (text) => wallet.signText(text))).bundle);
  } catch (cause) {
    throw new ArchiveError("archive_wrong_keys", `the key bundle in the archive does not open with the wallet ${wallet.address}`, { cause });
  }
  if (keys.walletAddress !== header.walletAddress) {
    throw new ArchiveError("archive_wrong_keys", `the key bundle in the archive belongs to ${keys.walletAddress}, not to ${header.walletAddress}`);
  }
  return keys;
}

/** readArchive with the wallet instead of the keys (one signature). */
export async function readArchiveWithWallet(archive: Uint8Array, signer: AnySigner): Promise<OpenedInboxArchive> {
  return readArchive(archive, await archiveKeysFromWallet(archive, signer));
}
