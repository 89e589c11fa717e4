// The wallets that wrote to this client first: their invitation or intro opened with our keys, and they were its
// sender. Writing back to such a wallet is free with a `prior_contact` basis (docs/postage.md §3.2). This is only the
// client's guess of what to claim: the node decides from its own relationship records, and a refusal falls back to
// a stamp.
export class PriorContacts {
  private readonly senders = new Set<string>();

  /** Notes that `address` contacted us (its invitation or intro, to us, opened). */
  add(address: string): void {
    // Lowercase, not EIP-55: the same equality for a fraction of the cost (a listing adds one per conversation).
    this.senders.add(address.toLowerCase());
  }

  has(address: string): boolean {
    return this.senders.has(address.toLowerCase());
  }

  get size(): number {
    return this.senders.size;
  }
}
