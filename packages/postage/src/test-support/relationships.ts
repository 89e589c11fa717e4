// An in-memory stand-in for the node's postage_relationships table (docs/postage.md §3.4).
import type { RelationshipLookup } from "../verify.js";

export class MemoryRelationships implements RelationshipLookup {
  private readonly pairs = new Set<string>();
  /** Every lookup made, to show what a decision consulted. */
  readonly lookups: Array<[string, string]> = [];

  add(inviter: string, invitee: string): void {
    this.pairs.add(`${inviter}|${invitee}`);
  }

  async has(inviter: string, invitee: string): Promise<boolean> {
    this.lookups.push([inviter, invitee]);
    return this.pairs.has(`${inviter}|${invitee}`);
  }

  get size(): number {
    return this.pairs.size;
  }
}
