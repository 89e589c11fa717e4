// docs/protocol/messages.md §5: the consent list (allow/deny per address) kept encrypted on the owner's private
// preferences topic.
import {
  decryptPrivatePreferencesPayload,
  encryptPrivatePreferencesAction,
  isAddress,
  privatePreferencesTopic,
  toChecksumAddress,
  type UserKeys,
} from "@xmtp-ts/crypto";
import type { PrivatePreferencesAction } from "@xmtp-ts/proto";
import type { Envelope, MessageApi, SubscribeOptions } from "../api/index.js";
import { DecodedStream, type MessageStream } from "../conversations/streams.js";
import type { InboxStore } from "../storage/InboxStore.js";
import { messageDigestHex } from "../api/digests.js";

export type ConsentState = "allowed" | "denied" | "unknown";

/** Incremental reloads look back this far for entries from senders with lagging clocks (docs/protocol/paging.md §4). */
const CLOCK_SKEW_NS = 10_000_000_000n;

function keyOf(address: string): string {
  return isAddress(address) ? toChecksumAddress(address) : address;
}

const MAX_REMEMBERED_OWN_ENTRIES = 1_000;

export class ConsentList {
  private readonly states = new Map<string, "allowed" | "denied">();
  private topic: Promise<string> | undefined;
  private lastLoadNs: bigint | undefined;
  private loading: Promise<void> | undefined;
  /** Digests of the recent entries this instance published: already applied, so a stream must not apply them late. */
  private readonly published = new Set<string>();

  private restored: Promise<void> | undefined;

  constructor(
    private readonly api: MessageApi,
    private readonly keys: UserKeys,
    /** With a store, a start resumes from the stored list and asks the node only for newer entries. */
    private readonly store?: InboxStore,
  ) {}

  private restore(): Promise<void> {
    this.restored ??= (async () => {
      if (!this.store) return;
      const { entries, cursorNs } = await this.store.loadConsent();
      // Stored in the list's own key form already (checksummed): no keccak per entry on a warm start.
      for (const [address, state] of entries) this.states.set(address, state);
      this.lastLoadNs = cursorNs;
    })();
    return this.restored;
  }

  private preferencesTopic(): Promise<string> {
    this.topic ??= privatePreferencesTopic(this.keys.identityPrivateKey);
    return this.topic;
  }

  state(address: string): ConsentState {
    return this.states.get(keyOf(address)) ?? "unknown";
  }

  /** Every known entry, in the order they were set. */
  entries(): { address: string; state: "allowed" | "denied" }[] {
    return [...this.states].map(([address, state]) => ({ address, state }));
  }

  private apply(action: PrivatePreferencesAction): void {
    const { messageType } = action;
    if (messageType.case === "allowAddress") for (const a of messageType.value.walletAddresses) this.set(a, "allowed");
    if (messageType.case === "denyAddress") for (const a of messageType.value.walletAddresses) this.set(a, "denied");
  }

  private set(address: string, state: "allowed" | "denied"): void {
    const key = keyOf(address);
    this.states.delete(key);
    this.states.set(key, state);
  }

  /** Reads entries published since the last load (all of them the first time, or after `reset`). */
  load(): Promise<void> {
    this.loading ??= this.loadNow().finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** Loads once; later calls return immediately. */
  async ensureLoaded(): Promise<void> {
    if (this.lastLoadNs === undefined) await this.load();
  }

  private async loadNow(): Promise<void> {
    await this.restore();
    const startedNs = BigInt(Date.now()) * 1_000_000n;
    const startTimeNs = this.lastLoadNs === undefined ? undefined : this.lastLoadNs - CLOCK_SKEW_NS;
    const envelopes = await this.api.queryAll({ contentTopic: await this.preferencesTopic(), direction: "ascending", startTimeNs });
    const actions = await Promise.all(
      envelopes.map((envelope) =>
        decryptPrivatePreferencesPayload(envelope.message, this.keys.identityPrivateKey, this.keys.identityPublicKey).catch(() => undefined),
      ),
    );
    // An incremental load replays its overlap in order, ending in the same states; a full load starts over.
    if (startTimeNs === undefined) this.states.clear();
    for (const action of actions) if (action) this.apply(action);
    // The list is rewritten only when entries came in; otherwise only the cursor moves.
    const changed = actions.some((action) => action !== undefined) || startTimeNs === undefined;
    await this.store?.saveConsent(changed ? [...this.states] : undefined, startedNs);
    this.lastLoadNs = startedNs;
  }

  reset(): void {
    this.states.clear();
    this.lastLoadNs = undefined;
  }

  async publish(addresses: string[], state: "allowed" | "denied"): Promise<void> {
    if (addresses.length === 0) return;
    const walletAddresses = addresses.map(keyOf);
    const message = await encryptPrivatePreferencesAction(
      { messageType: { case: state === "allowed" ? "allowAddress" : "denyAddress", value: { walletAddresses } } },
      this.keys.identityPrivateKey,
      this.keys.identityPublicKey,
    );
    this.published.add(messageDigestHex(message));
    if (this.published.size > MAX_REMEMBERED_OWN_ENTRIES) this.published.delete(this.published.values().next().value!);
    await this.api.publish([{ contentTopic: await this.preferencesTopic(), timestampNs: BigInt(Date.now()) * 1_000_000n, message }]);
    for (const address of walletAddresses) this.set(address, state);
    await this.store?.saveConsent([...this.states]);
  }

  /**
   * Entries as they are published from now on, by this or any other installation of the wallet, each applied to
   * the list before it is yielded. Entries that do not open with our keys are skipped. Resolves once subscribed.
   */
  async stream(options: SubscribeOptions = {}): Promise<MessageStream<PrivatePreferencesAction>> {
    const subscription = this.api.subscribe([await this.preferencesTopic()], options);
    const stream = new DecodedStream<PrivatePreferencesAction>(subscription, async (envelope: Envelope) => {
      const action = await decryptPrivatePreferencesPayload(envelope.message, this.keys.identityPrivateKey, this.keys.identityPublicKey).catch(
        () => undefined,
      );
      if (!action) return [];
      // Our own entry arrives after later local changes may have been made: applying it now would undo them.
      if (!this.published.has(messageDigestHex(envelope.message))) this.apply(action);
      return [action];
    });
    await stream.ready;
    return stream;
  }
}
