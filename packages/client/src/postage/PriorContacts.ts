// The wallets that wrote to this client first: their invitation or intro opened with our keys, and they were its
// sender. Writing back to such a wallet is free with a `prior_contact` basis (docs/postage.md §3.2). This is only the
// client's guess of what to claim: the node decides from its own relationship records, and a refusal falls back to
// a stamp.
import { toChecksumAddress } from "@xmtp-ts/crypto";

export class PriorContacts {
  private readonly senders = new Set<string>();

  /** Notes that `address` contacted us (its invitation or intro, to us, opened). */
  add(address: string): void {
    this.senders.add(toChecksumAddress(address));
  }

  has(address: string): boolean {
    return this.senders.has(toChecksumAddress(address));
  }

  get size(): number {
    return this.senders.size;
  }
}
