// Keeps a registered installation's topic set in step with an inbox: `sync()` once makes the service hold exactly
// the inbox's notification topics (topics.ts); `start()` then follows the inbox, subscribing conversations as they
// appear and dropping (or taking back) conversations whose peer the consent list denies (or allows again).
import type { PrivatePreferencesAction } from "@xmtp-ts/proto";
import type { Client } from "../Client.js";
import type { Conversation } from "../conversations/Conversation.js";
import type { MessageStream } from "../conversations/streams.js";
import type { InstallationCredentials, NotifyApi } from "./NotifyApi.js";
import { notificationTopics, wantsNotifications } from "./topics.js";

export interface TopicKeeperOptions {
  /** Failures while following the inbox (a service call, a stream's lost connection); the keeper goes on. */
  onError?: (error: unknown) => void;
  /** Each change made to the service's topic set, after it was made. */
  onChange?: (change: { subscribed: string[]; unsubscribed: string[] }) => void;
}

export interface TopicSyncResult {
  /** Every topic the installation holds now. */
  topics: string[];
  subscribed: string[];
  unsubscribed: string[];
}

function addressesOf(action: PrivatePreferencesAction): string[] {
  const { messageType } = action;
  if (messageType.case === "allowAddress" || messageType.case === "denyAddress") return messageType.value.walletAddresses;
  return [];
}

export class NotificationTopicKeeper {
  private held = new Set<string>();
  /** Service calls, one at a time and in order, so a subscribe and a later unsubscribe cannot cross. */
  private queue: Promise<unknown> = Promise.resolve();
  private streams: MessageStream<unknown>[] = [];
  private loops: Promise<void>[] = [];
  private running = false;

  constructor(
    private readonly client: Client,
    private readonly api: NotifyApi,
    private readonly installation: InstallationCredentials,
    private readonly options: TopicKeeperOptions = {},
  ) {}

  /** The topics the installation held at the last answer of the service. */
  get topics(): string[] {
    return [...this.held].sort();
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Makes the installation hold exactly the inbox's notification topics: reads the conversations and consent list
   * from the network, subscribes what is missing and unsubscribes everything else it holds.
   */
  sync(): Promise<TopicSyncResult> {
    return this.serially(async () => {
      const { topics } = await notificationTopics(this.client);
      const current = new Set((await this.api.get(this.installation)).topics);
      const wanted = new Set(topics);
      const subscribed = topics.filter((t) => !current.has(t));
      const unsubscribed = [...current].filter((t) => !wanted.has(t));
      let held = [...current];
      if (subscribed.length > 0) held = await this.api.subscribe(this.installation, subscribed);
      if (unsubscribed.length > 0) held = await this.api.unsubscribe(this.installation, unsubscribed);
      this.held = new Set(held);
      if (subscribed.length + unsubscribed.length > 0) this.options.onChange?.({ subscribed, unsubscribed });
      return { topics: this.topics, subscribed, unsubscribed };
    });
  }

  /**
   * Follows the inbox: opens the new-conversation and consent streams, then syncs (so nothing created in between
   * is missed). Resolves once both streams are subscribed and the first sync is done.
   */
  async start(): Promise<TopicSyncResult> {
    if (this.running) throw new Error("the topic keeper is already running");
    this.running = true;
    const onConnectionLost = (error: unknown) => this.options.onError?.(error);
    try {
      const conversations = await this.client.conversations.stream(onConnectionLost);
      this.follow(conversations, (conversation) => this.conversationAppeared(conversation));
      const consent = await this.client.contacts.streamConsentList(onConnectionLost);
      this.follow(consent, (action) => this.consentChanged(action));
      return await this.sync();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Ends the streams and waits for the changes under way. The installation keeps its topics. */
  async stop(): Promise<void> {
    this.running = false;
    const streams = this.streams.splice(0);
    await Promise.all(streams.map((s) => s.return().catch(() => undefined)));
    await Promise.all(this.loops.splice(0));
    await this.queue.catch(() => undefined);
  }

  private follow<T>(stream: MessageStream<T>, handle: (item: T) => Promise<void>): void {
    this.streams.push(stream as MessageStream<unknown>);
    this.loops.push(
      (async () => {
        try {
          for await (const item of stream) {
            await handle(item).catch((error: unknown) => this.options.onError?.(error));
          }
        } catch (error) {
          if (this.running) this.options.onError?.(error);
        }
      })(),
    );
  }

  private conversationAppeared(conversation: Conversation): Promise<void> {
    if (!wantsNotifications(this.client, conversation)) return Promise.resolve();
    return this.change([conversation.topic], []);
  }

  private consentChanged(action: PrivatePreferencesAction): Promise<void> {
    const peers = new Set(addressesOf(action).map((a) => a.toLowerCase()));
    if (peers.size === 0) return Promise.resolve();
    // The action's own state, not the list's: this instance's own entry can arrive on the stream before publish()
    // has set it locally. Entries arrive in publication order, so the latest wins; sync() reconciles with the list.
    const denied = action.messageType.case === "denyAddress";
    const topics = this.client.conversations
      .listFromCache()
      .filter((conversation) => peers.has(conversation.peerAddress.toLowerCase()))
      .map((conversation) => conversation.topic);
    return denied ? this.change([], topics) : this.change(topics, []);
  }

  private change(subscribe: string[], unsubscribe: string[]): Promise<void> {
    return this.serially(async () => {
      const subscribed = subscribe.filter((t) => !this.held.has(t));
      const unsubscribed = unsubscribe.filter((t) => this.held.has(t));
      if (subscribed.length > 0) this.held = new Set(await this.api.subscribe(this.installation, subscribed));
      if (unsubscribed.length > 0) this.held = new Set(await this.api.unsubscribe(this.installation, unsubscribed));
      if (subscribed.length + unsubscribed.length > 0) this.options.onChange?.({ subscribed, unsubscribed });
    });
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.catch(() => undefined).then(work);
    this.queue = next;
    return next;
  }
}
