// One message to many wallets, exactly once each, across interruptions (design: packages/client/README.md,
// "Broadcast"). The rule that makes it exactly once: before a send starts, its sent time is written down as
// `pending` (and saved durably); only the node's acknowledgement turns it into `sent`. A pending recipient is never
// sent to again before its conversations have been checked for a message from us with that sent time and content.
import { sha256, toHex } from "@xmtp-ts/crypto";
import type { Client } from "../Client.js";
import { backoffDelay, delay } from "../api/delay.js";
import type { Conversation } from "../conversations/Conversation.js";
import { isDelivered } from "./delivered.js";
import { BroadcastInterruptedError, BroadcastResumeMismatchError } from "./errors.js";
import { BroadcastJournal } from "./journal.js";
import { ProgressCounter } from "./progress.js";
import { isRateLimited, isSettled, isTransient, RateGate } from "./rateLimits.js";
import { distinctRecipients, reachability } from "./recipients.js";
import type { BroadcastState, RecipientRecord } from "./state.js";
import { FileStateStore, MemoryStateStore, type BroadcastStateStore } from "./stateStore.js";
import type { BroadcastFailure, BroadcastOptions, BroadcastReport } from "./types.js";

const DEFAULTS = {
  concurrency: 8,
  checkBatchSize: 250,
  maxAttempts: 4,
  maxRateLimitWaits: 50,
  initialBackoffMs: 500,
  maxBackoffMs: 30_000,
  inFlightSettleMs: 3_000,
};

function storeOf(options: BroadcastOptions): BroadcastStateStore {
  if (options.stateStore) return options.stateStore;
  return options.resumeFile !== undefined ? new FileStateStore(options.resumeFile) : new MemoryStateStore();
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  return value;
}

function failureOf(error: unknown): { reason: string; code?: string | number } {
  const reason = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" || typeof code === "number" ? { reason, code } : { reason };
}

/** The state to continue, or a new one; refuses a state of another sender or other content. */
async function openJournal(store: BroadcastStateStore, sender: string, contentSha256: string): Promise<BroadcastJournal> {
  const loaded = await store.load();
  if (loaded) {
    if (loaded.sender.toLowerCase() !== sender.toLowerCase()) {
      throw new BroadcastResumeMismatchError(`the resume state is a broadcast by ${loaded.sender}, not by ${sender}`, "sender");
    }
    if (loaded.contentSha256 !== contentSha256) {
      throw new BroadcastResumeMismatchError(
        "the resume state is a broadcast of other content: continue it with the same content, or start afresh with another resume state",
        "content",
      );
    }
    return new BroadcastJournal(loaded, store);
  }
  const state: BroadcastState = {
    broadcastId: globalThis.crypto.randomUUID(),
    sender,
    contentSha256,
    createdAt: new Date().toISOString(),
    recipients: new Map(),
  };
  const journal = new BroadcastJournal(state, store);
  await journal.flush();
  return journal;
}

/** Sends `content` to each of `addresses` (see BroadcastOptions); resolves with the report once every one has an outcome. */
export async function broadcast(client: Client, addresses: readonly string[], content: unknown, options: BroadcastOptions = {}): Promise<BroadcastReport> {
  const settings = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & BroadcastOptions;
  checkRange("concurrency", settings.concurrency, 1, 64);
  checkRange("checkBatchSize", settings.checkBatchSize, 1, 10_000);
  const recipients = distinctRecipients(addresses);
  const { payload } = await client.encodeContent(content, { contentType: options.contentType, compression: options.compression, fallback: options.contentFallback });
  const store = storeOf(options);
  const unlock = await store.lock?.();
  try {
    return await run(client, recipients, content, payload, store, settings, options);
  } finally {
    await unlock?.();
  }
}

async function run(
  client: Client,
  recipients: string[],
  content: unknown,
  payload: Uint8Array,
  store: BroadcastStateStore,
  settings: typeof DEFAULTS & BroadcastOptions,
  options: BroadcastOptions,
): Promise<BroadcastReport> {
  const { signal } = options;
  const concurrency = settings.concurrency;
  const checkBatchSize = settings.checkBatchSize;
  const sendOptions = { contentType: options.contentType, compression: options.compression, contentFallback: options.contentFallback };
  const journal = await openJournal(store, client.address, toHex(sha256(payload)));
  const progress = new ProgressCounter(recipients.length, options.onProgress);
  const gate = new RateGate(settings.initialBackoffMs, settings.maxBackoffMs);

  // Where each recipient stands: sent earlier (done), in doubt (checked first, reachable by definition), or to do.
  const inDoubt: string[] = [];
  const toCheck: string[] = [];
  let alreadySent = 0;
  for (const address of recipients) {
    const record = journal.get(address);
    if (record?.status === "sent") alreadySent++;
    else if (record?.status === "pending") inDoubt.push(address);
    else toCheck.push(address);
  }
  progress.addAll({ alreadySent, checked: alreadySent + inDoubt.length });

  // The inbox as it is: existing conversations are reused, and in-doubt recipients' conversations are searched.
  await client.conversations.list();
  const byPeer = new Map<string, Conversation[]>();
  const reuse = new Map<string, Conversation>();
  const adopt = (conversation: Conversation) => {
    const peer = conversation.peerAddress.toLowerCase();
    const all = byPeer.get(peer) ?? [];
    if (!all.includes(conversation)) byPeer.set(peer, [...all, conversation]);
    const conversationId = conversation.context?.conversationId ?? "";
    if (conversation.conversationVersion === "v2" && conversationId === "" && !reuse.has(peer)) reuse.set(peer, conversation);
  };
  client.conversations.listFromCache().forEach(adopt);

  const stopped = () => signal?.aborted === true;
  let fatal: { error: unknown } | undefined;

  /** Runs `call`, waiting out rate limits (shared with the senders); `stoppable`: the signal ends the wait. */
  const patiently = async <T>(call: () => Promise<T>, stoppable = true): Promise<T> => {
    for (let waits = 0; ; waits++) {
      await gate.wait(stoppable ? signal : undefined);
      try {
        return await call();
      } catch (error) {
        if (!isRateLimited(error) || waits >= settings.maxRateLimitWaits) throw error;
        gate.limited(error);
        progress.add("rateLimited");
      }
    }
  };

  const reachable: string[] = [];
  try {
    for await (const batch of reachability((peers) => patiently(() => client.canMessage(peers)), toCheck, checkBatchSize)) {
      const absent = batch.filter((r) => !r.reachable);
      reachable.push(...batch.filter((r) => r.reachable).map((r) => r.address));
      await Promise.all(absent.map((r) => journal.set(r.address, { status: "not_on_network", at: Date.now() })));
      progress.add("notOnNetwork", absent.length);
      progress.add("checked", batch.length);
      if (stopped()) break;
    }
  } catch (error) {
    if (!stopped()) throw error;
  }

  const conversationFor = async (address: string): Promise<Conversation> => {
    const known = reuse.get(address.toLowerCase());
    if (known) return known;
    const conversation = await client.conversations.newConversation(address);
    adopt(conversation);
    return conversation;
  };
  // Not stopped by the signal: a check under way finishes, so that a stopped broadcast leaves as little in doubt as it can.
  const delivered = (address: string, sentAtMs: number) =>
    patiently(() => isDelivered(byPeer.get(address.toLowerCase()) ?? [], { sender: client.address, sentAtMs, payload }), false);
  const settle = async (record: { attemptedAt: number }) => {
    const ms = record.attemptedAt + settings.inFlightSettleMs - Date.now();
    if (ms > 0) await delay(ms);
  };

  /** Gives `address` its outcome: sent (once), recovered, failed, or left pending when the broadcast is stopped. */
  const deliver = async (address: string): Promise<void> => {
    let record: RecipientRecord | undefined = journal.get(address);
    // A pending record from an earlier run: that process may have died with the send on the wire.
    let settled = record?.status !== "pending";
    let earlier = record?.status === "pending";
    let transientFailures = 0;
    let rateLimitWaits = 0;
    let lastError: unknown;
    for (;;) {
      if (record?.status === "pending") {
        if (!settled) await settle(record);
        if (await delivered(address, record.sentAtMs)) {
          await journal.set(address, { status: "sent", at: Date.now() });
          progress.add(earlier ? "recovered" : "sent");
          return;
        }
      }
      if (lastError !== undefined) {
        await journal.set(address, { status: "failed", at: Date.now(), ...failureOf(lastError) });
        progress.add("failed");
        return;
      }
      if (stopped()) return;
      try {
        await gate.wait(signal);
      } catch {
        return;
      }
      const previous = record?.status === "pending" ? record.sentAtMs + 1 : 0;
      record = { status: "pending", sentAtMs: Math.max(Date.now(), previous), attemptedAt: Date.now() };
      earlier = false;
      await journal.set(address, record);
      progress.add("inFlight");
      try {
        const conversation = await conversationFor(address);
        await conversation.send(content, { ...sendOptions, timestamp: new Date(record.sentAtMs) });
      } catch (error) {
        progress.add("inFlight", -1);
        settled = isSettled(error);
        if (isRateLimited(error) && rateLimitWaits < settings.maxRateLimitWaits) {
          rateLimitWaits++;
          gate.limited(error);
          progress.add("rateLimited");
        } else if (isTransient(error) && !isRateLimited(error) && ++transientFailures < settings.maxAttempts) {
          await delay(backoffDelay(transientFailures, settings.initialBackoffMs, settings.maxBackoffMs));
        } else {
          lastError = error;
        }
        continue;
      }
      progress.add("inFlight", -1);
      gate.passed();
      await journal.set(address, { status: "sent", at: Date.now() });
      progress.add("sent");
      return;
    }
  };

  progress.enter("sending");
  const queue = [...inDoubt, ...reachable];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      while (!fatal && !stopped() && next < queue.length) {
        const address = queue[next++];
        try {
          await deliver(address);
        } catch (error) {
          // The state could not be saved, or the network check failed: stop, leaving the record as it is on disk.
          fatal ??= { error };
        }
      }
    }),
  );
  await journal.flush().catch((error: unknown) => void (fatal ??= { error }));
  if (fatal) throw fatal.error;

  const report = reportOf(journal.state, recipients, progress, gate.hits);
  if (stopped()) throw new BroadcastInterruptedError(report);
  progress.enter("done");
  return report;
}

function reportOf(state: BroadcastState, recipients: string[], progress: ProgressCounter, rateLimited: number): BroadcastReport {
  const sent: string[] = [];
  const notOnNetwork: string[] = [];
  const failed: BroadcastFailure[] = [];
  for (const address of recipients) {
    const record = state.recipients.get(address);
    if (record?.status === "sent") sent.push(address);
    else if (record?.status === "not_on_network") notOnNetwork.push(address);
    else if (record?.status === "failed") failed.push({ address, reason: record.reason, ...(record.code !== undefined ? { code: record.code } : {}) });
  }
  return {
    broadcastId: state.broadcastId,
    total: recipients.length,
    sent,
    sentThisRun: progress.get("sent"),
    alreadySent: progress.get("alreadySent"),
    recovered: progress.get("recovered"),
    notOnNetwork,
    failed,
    rateLimited,
  };
}
