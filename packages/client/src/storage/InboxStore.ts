// What a client keeps of an inbox between runs (with `dbPath`): conversations with their keys, consent, decrypted
// messages, and for each the cursor of the last sync, so a warm start asks the node only for what is newer. Every
// write that adds items carries the cursor that covers them in the same transaction: a cursor never runs ahead of
// what is stored, whichever client on the same file writes last.
import { XmtpClientError } from "../errors/XmtpClientError.js";
import type { LocalDatabase, LocalRecord, LocalWrite } from "@xmtp-ts/local-db";
import { bigintField, bigintOf, bytesField, bytesOf, decodeRecord, encodeRecord } from "./recordCodec.js";
import { SegmentLog, type Segment } from "./SegmentLog.js";

export interface StoredInvitation {
  topic: string;
  keyMaterial: Uint8Array;
  peerAddress: string;
  createdNs: bigint;
  context?: { conversationId: string; metadata: Record<string, string> };
  /** This identity sent it (else the peer did: a prior contact for postage). */
  isSender: boolean;
}

export interface StoredIntro {
  peerAddress: string;
  /** Sent time of the earliest intro seen, in ms. */
  sentMs: bigint;
  /** The peer wrote it (a prior contact for postage). */
  fromPeer: boolean;
}

/** A message as stored: its envelope and, when it opened, what opening it gave (no crypto needed to read it again). */
export interface StoredMessage {
  envelopeTimestampNs: bigint;
  message: Uint8Array;
  opened?: { senderAddress: string; recipientAddress?: string; sentNs: bigint; contentBytes: Uint8Array };
}

export interface SyncedLog<T> extends Segment<T> {
  /** Start of the last sync (its own clock): the next one asks for envelopes from a skew allowance before it. */
  cursorNs?: bigint;
}

export type ConsentEntry = [address: string, state: "allowed" | "denied"];

const INBOX = "inbox";
const CURSORS = "cursors";
const CONSENT = "consent";
const messagesCollection = (topic: string) => `messages/${topic}`;

interface InvitationJson {
  topic: string;
  keyMaterial: string;
  peerAddress: string;
  createdNs: string;
  context?: StoredInvitation["context"];
  isSender: boolean;
}

interface IntroJson {
  peerAddress: string;
  sentMs: string;
  fromPeer: boolean;
}

interface MessageJson {
  t: string;
  m: string;
  o?: { s: string; r?: string; n: string; c: string };
}

export class InboxStoreError extends XmtpClientError {
  readonly code = "invalid_inbox_store";
  constructor(message: string) {
    super(message);
    this.name = "InboxStoreError";
  }
}

const cursorWrite = (name: string, cursorNs: bigint): LocalWrite => ({
  type: "put",
  collection: CURSORS,
  key: name,
  value: encodeRecord(bigintField(cursorNs)),
});

export class InboxStore {
  private readonly invitationLog: SegmentLog<InvitationJson>;
  private readonly introLog: SegmentLog<IntroJson>;

  constructor(readonly db: LocalDatabase) {
    this.invitationLog = new SegmentLog(db, "invitations");
    this.introLog = new SegmentLog(db, "intros");
  }

  get location(): string {
    return this.db.location;
  }

  /**
   * Binds the store to one network: cursors and conversations of another network would be wrong here. A store
   * used for the first time takes `network`.
   */
  async checkNetwork(network: string): Promise<void> {
    const stored = await this.db.get(INBOX, "network");
    if (stored === undefined) {
      await this.db.write([{ type: "put", collection: INBOX, key: "network", value: encodeRecord(network) }]);
      return;
    }
    const storedNetwork = decodeRecord<string>(stored);
    if (storedNetwork !== network) {
      throw new InboxStoreError(
        `the database ${this.location} holds an inbox on ${storedNetwork}, not on ${network}: use one dbPath per network`,
      );
    }
  }

  async loadKeys(): Promise<Uint8Array | undefined> {
    const stored = await this.db.get(INBOX, "keys");
    return stored && bytesOf(decodeRecord<string>(stored));
  }

  async saveKeys(bundle: Uint8Array): Promise<void> {
    await this.db.write([{ type: "put", collection: INBOX, key: "keys", value: encodeRecord(bytesField(bundle)) }]);
  }

  private async cursor(name: string): Promise<bigint | undefined> {
    const stored = await this.db.get(CURSORS, name);
    return stored && bigintOf(decodeRecord<string>(stored));
  }

  async loadInvitations(): Promise<SyncedLog<StoredInvitation>> {
    const [log, cursorNs] = await Promise.all([this.invitationLog.load(), this.cursor("invitations")]);
    return { items: log.items.map(invitationOf), digests: log.digests, cursorNs };
  }

  /**
   * Adds invitations, with the cursor of the sync that found them (none for one created or streamed: the sync still
   * has to look there); `everything` is what the client now holds, written instead when the log is compacted.
   */
  async appendInvitations(
    segment: Segment<StoredInvitation>,
    cursorNs: bigint | undefined,
    everything: () => Segment<StoredInvitation>,
  ): Promise<void> {
    await this.append(this.invitationLog, invitationJson, "invitations", segment, cursorNs, everything);
  }

  async loadIntros(): Promise<SyncedLog<StoredIntro>> {
    const [log, cursorNs] = await Promise.all([this.introLog.load(), this.cursor("intros")]);
    return { items: log.items.map(introOf), digests: log.digests, cursorNs };
  }

  /** Adds intros, as `appendInvitations` adds invitations. */
  async appendIntros(segment: Segment<StoredIntro>, cursorNs: bigint | undefined, everything: () => Segment<StoredIntro>): Promise<void> {
    await this.append(this.introLog, introJson, "intros", segment, cursorNs, everything);
  }

  /** A segment in its log (none when empty: a sync that found nothing moves only its cursor) and the cursor. */
  private async append<T, J>(
    log: SegmentLog<J>,
    toJson: (item: T) => J,
    cursorName: string,
    segment: Segment<T>,
    cursorNs: bigint | undefined,
    everything: () => Segment<T>,
  ): Promise<void> {
    const jsonOf = (s: Segment<T>): Segment<J> => ({ items: s.items.map(toJson), digests: s.digests });
    const empty = segment.items.length === 0 && segment.digests.length === 0;
    const writes = empty ? [] : log.writesFor(jsonOf(segment), () => jsonOf(everything()));
    if (cursorNs !== undefined) writes.push(cursorWrite(cursorName, cursorNs));
    await this.db.write(writes);
  }

  async loadConsent(): Promise<{ entries: ConsentEntry[]; cursorNs?: bigint }> {
    const [stored, cursorNs] = await Promise.all([this.db.get(CONSENT, "entries"), this.cursor("consent")]);
    return { entries: stored ? decodeRecord<ConsentEntry[]>(stored) : [], cursorNs };
  }

  /**
   * The whole list (rewritten: entries move to the end when set again), or none when unchanged, with the cursor of
   * the load that made it (none after a local change: the next load still has to look there).
   */
  async saveConsent(entries: ConsentEntry[] | undefined, cursorNs?: bigint): Promise<void> {
    const writes: LocalWrite[] = [];
    if (entries) writes.push({ type: "put", collection: CONSENT, key: "entries", value: encodeRecord(entries) });
    if (cursorNs !== undefined) writes.push(cursorWrite("consent", cursorNs));
    if (writes.length > 0) await this.db.write(writes);
  }

  messageCursor(topic: string): Promise<bigint | undefined> {
    return this.cursor(messagesCollection(topic));
  }

  /** Stores messages by id (a message stored twice stays once) with the topic's new cursor. */
  async appendMessages(topic: string, messages: { id: string; message: StoredMessage }[], cursorNs: bigint): Promise<void> {
    const collection = messagesCollection(topic);
    const writes: LocalWrite[] = messages.map(({ id, message }) => ({
      type: "put",
      collection,
      key: id,
      value: encodeRecord(messageJson(message)),
      order: orderOf(message.envelopeTimestampNs),
    }));
    writes.push(cursorWrite(collection, cursorNs));
    await this.db.write(writes);
  }

  /** Stored messages of a topic by envelope time, with inclusive bounds. */
  async listMessages(
    topic: string,
    options: { fromNs?: bigint; toNs?: bigint; limit?: number; descending?: boolean } = {},
  ): Promise<{ id: string; message: StoredMessage }[]> {
    const records = await this.db.list(messagesCollection(topic), {
      from: options.fromNs,
      to: options.toNs,
      limit: options.limit,
      descending: options.descending,
    });
    return records.map((record: LocalRecord) => ({ id: record.key, message: messageOf(decodeRecord<MessageJson>(record.value)) }));
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** The database orders by signed 64-bit integers; a timestamp past them (a node or sender lying) sorts last. */
const MAX_ORDER = (1n << 63n) - 1n;
function orderOf(timestampNs: bigint): bigint {
  return timestampNs > MAX_ORDER ? MAX_ORDER : timestampNs < 0n ? 0n : timestampNs;
}


function invitationJson(invitation: StoredInvitation): InvitationJson {
  return {
    topic: invitation.topic,
    keyMaterial: bytesField(invitation.keyMaterial),
    peerAddress: invitation.peerAddress,
    createdNs: bigintField(invitation.createdNs),
    context: invitation.context,
    isSender: invitation.isSender,
  };
}

function invitationOf(json: InvitationJson): StoredInvitation {
  return {
    topic: json.topic,
    keyMaterial: bytesOf(json.keyMaterial),
    peerAddress: json.peerAddress,
    createdNs: bigintOf(json.createdNs),
    context: json.context,
    isSender: json.isSender,
  };
}

function introJson(intro: StoredIntro): IntroJson {
  return { peerAddress: intro.peerAddress, sentMs: bigintField(intro.sentMs), fromPeer: intro.fromPeer };
}

function introOf(json: IntroJson): StoredIntro {
  return { peerAddress: json.peerAddress, sentMs: bigintOf(json.sentMs), fromPeer: json.fromPeer };
}

function messageJson(message: StoredMessage): MessageJson {
  const { opened } = message;
  return {
    t: bigintField(message.envelopeTimestampNs),
    m: bytesField(message.message),
    o: opened && {
      s: opened.senderAddress,
      r: opened.recipientAddress,
      n: bigintField(opened.sentNs),
      c: bytesField(opened.contentBytes),
    },
  };
}

function messageOf(json: MessageJson): StoredMessage {
  return {
    envelopeTimestampNs: bigintOf(json.t),
    message: bytesOf(json.m),
    opened: json.o && { senderAddress: json.o.s, recipientAddress: json.o.r, sentNs: bigintOf(json.o.n), contentBytes: bytesOf(json.o.c) },
  };
}
