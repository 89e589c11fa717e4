import type { PrivatePreferencesAction } from "@xmtp-ts/proto";
import type { MessageStream } from "../conversations/streams.js";
import type { ConsentList, ConsentState } from "./Consent.js";
import type { ContactBook } from "./ContactBook.js";

/** `client.contacts`: the consent list (docs/protocol/messages.md §5) with the public SDK's method names. */
export class Contacts {
  constructor(
    private readonly consent: ConsentList,
    private readonly book: ContactBook,
    /** Peers this client instance has introduced itself to over v1 (the SDK's `contacts.addresses`). */
    readonly addresses: Set<string>,
    /** Runs after addresses are allowed (the postage option `grantOnAllow` sends them relationship grants). */
    private readonly onAllowed?: (addresses: string[]) => Promise<void>,
  ) {}

  /** Allows the addresses: publishes one entry to the private preferences topic. */
  async allow(addresses: string[]): Promise<void> {
    await this.consent.publish(addresses, "allowed");
    await this.onAllowed?.(addresses);
  }

  async deny(addresses: string[]): Promise<void> {
    await this.consent.publish(addresses, "denied");
  }

  isAllowed(address: string): boolean {
    return this.consent.state(address) === "allowed";
  }

  isDenied(address: string): boolean {
    return this.consent.state(address) === "denied";
  }

  consentState(address: string): ConsentState {
    return this.consent.state(address);
  }

  /** Reads entries published since the last load (everything the first time). */
  async loadConsentList(): Promise<{ address: string; state: "allowed" | "denied" }[]> {
    await this.consent.load();
    return this.consent.entries();
  }

  /**
   * Consent entries (`PrivatePreferencesAction`s) as they are published from now on, by this or another
   * installation of the wallet (e.g. the public SDK), applied to the list as they arrive. End it with `return()`.
   */
  streamConsentList(onConnectionLost?: (error: unknown) => void): Promise<MessageStream<PrivatePreferencesAction>> {
    return this.consent.stream({ onConnectionLost });
  }

  /** Forgets the local list and reads it again from the network. */
  async refreshConsentList(): Promise<{ address: string; state: "allowed" | "denied" }[]> {
    this.consent.reset();
    return this.loadConsentList();
  }

  /** Drops a peer's cached contact bundle so the next lookup reads the network. */
  forgetContact(address: string): void {
    this.book.forget(address);
  }
}
