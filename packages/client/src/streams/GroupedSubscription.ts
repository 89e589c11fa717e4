// One subscription over more topics than a node takes in one stream (ours: 10,000 by default; an HTTP/1.1 browser
// also pays for every extra connection): the topics are split into groups of at most `maxTopicsPerStream`, each its
// own resumable subscription, and their envelopes are merged. A topic change touches only the groups it changes,
// so adding a conversation to a 10,000-topic stream reconnects one group, not all of them.
import type { Envelope, Subscription } from "../api/types.js";
import { SubscriptionClosedError } from "./ResumableSubscription.js";

/** Topics per stream by default: few streams for 10,000 conversations, bodies far below a node's request limit. */
export const DEFAULT_MAX_TOPICS_PER_STREAM = 5_000;

interface Group {
  subscription: Subscription;
  topics: Set<string>;
  /** The group's `next()` in flight, if any: at most one per group, so each group's own backpressure holds. */
  pending?: Promise<{ group: Group; result: IteratorResult<Envelope> }>;
}

export class GroupedSubscription implements Subscription {
  private groups: Group[] = [];
  private closed = false;
  private readonly changed: { wake?: () => void } = {};

  constructor(
    topics: string[],
    private readonly open: (topics: string[]) => Subscription,
    private readonly maxTopicsPerStream = DEFAULT_MAX_TOPICS_PER_STREAM,
  ) {
    if (!Number.isInteger(maxTopicsPerStream) || maxTopicsPerStream < 1) {
      throw new RangeError(`maxTopicsPerStream must be a positive integer, got ${String(maxTopicsPerStream)}`);
    }
    const unique = [...new Set(topics)];
    for (let i = 0; i < unique.length; i += maxTopicsPerStream) this.addGroup(unique.slice(i, i + maxTopicsPerStream));
    if (this.groups.length === 0) this.groups.push({ subscription: open(topics), topics: new Set(topics) });
  }

  private addGroup(topics: string[]): Group {
    const group: Group = { subscription: this.open(topics), topics: new Set(topics) };
    this.groups.push(group);
    return group;
  }

  get ready(): Promise<void> {
    return Promise.all(this.groups.map((group) => group.subscription.ready)).then(() => undefined);
  }

  get contentTopics(): string[] {
    return this.groups.flatMap((group) => [...group.topics]);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Envelope>> {
    for (;;) {
      if (this.closed || this.groups.length === 0) return { value: undefined, done: true };
      for (const group of this.groups) group.pending ??= group.subscription.next().then((result) => ({ group, result }));
      const woken = new Promise<undefined>((resolve) => (this.changed.wake = () => resolve(undefined)));
      let settled;
      try {
        settled = await Promise.race([...this.groups.map((group) => group.pending!), woken]);
      } catch (error) {
        // A group failed for good (e.g. the node refuses its topics): the others stop too.
        await this.close();
        throw error;
      }
      if (!settled) continue; // the groups changed: race the new set
      const { group, result } = settled;
      group.pending = undefined;
      if (!this.groups.includes(group)) continue; // a group dropped meanwhile: its envelopes belong to no topic now
      if (result.done) {
        // One group ending ends the whole (it ends only when closed or failed for good).
        await this.close();
        return { value: undefined, done: true };
      }
      return result;
    }
  }

  async return(): Promise<IteratorResult<Envelope>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /**
   * Moves to a new topic set: removed topics leave their groups (a group left empty is closed), new topics fill the
   * last group up to the limit, then new groups. Only groups whose topics change reconnect.
   */
  async updateTopics(topics: string[]): Promise<void> {
    if (this.closed) throw new SubscriptionClosedError("updateTopics on a closed subscription");
    const wanted = new Set(topics);
    if (wanted.size === 0) throw new TypeError("updateTopics needs a non-empty array of content topics");
    const changedGroups = new Set<Group>();
    for (const group of this.groups) {
      for (const topic of group.topics) {
        if (wanted.has(topic)) continue;
        group.topics.delete(topic);
        changedGroups.add(group);
      }
    }
    const present = new Set(this.contentTopics);
    const added = [...wanted].filter((topic) => !present.has(topic));
    const emptied = this.groups.filter((group) => group.topics.size === 0);
    this.groups = this.groups.filter((group) => group.topics.size > 0);
    let last = this.groups.at(-1);
    const fresh: Group[] = [];
    for (let i = 0; i < added.length; ) {
      if (last && last.topics.size < this.maxTopicsPerStream && !fresh.includes(last)) {
        const room = this.maxTopicsPerStream - last.topics.size;
        for (const topic of added.slice(i, i + room)) last.topics.add(topic);
        changedGroups.add(last);
        i += room;
        continue;
      }
      last = this.addGroup(added.slice(i, i + this.maxTopicsPerStream));
      fresh.push(last);
      i += this.maxTopicsPerStream;
    }
    this.changed.wake?.();
    await Promise.all([
      ...emptied.map((group) => group.subscription.close()),
      ...[...changedGroups].filter((group) => group.topics.size > 0).map((group) => group.subscription.updateTopics([...group.topics])),
      ...fresh.map((group) => group.subscription.ready),
    ]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.changed.wake?.();
    await Promise.all(this.groups.map((group) => group.subscription.close()));
  }
}
