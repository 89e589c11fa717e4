// docs/protocol/identity.md §3-§4: peers' published key bundles (looked up, verified, cached) and our own contact
// publishing.
import type { XmtpClientErrorCode } from "../errors/XmtpClientError.js";
import {
  contactTopic,
  decodeContactBundle,
  encodeContactBundleV1,
  encodeContactBundleV2,
  equalBytes,
  isAddress,
  legacyPublicKeyBundleFromSigned,
  signedPublicKeyBundleFromLegacy,
  toChecksumAddress,
  type KeyBundleVerifier,
  type UserKeys,
} from "@xmtp-ts/crypto";
import { toBinary, SignedPublicKeyBundleSchema, type PublicKeyBundle, type SignedPublicKeyBundle } from "@xmtp-ts/proto";
import type { Envelope, MessageApi } from "../api/index.js";
import { queryPages } from "../api/paging.js";

/** A peer's verified contact: the newest valid bundle on its contact topic. */
export type Contact =
  | { version: "v1"; address: string; bundle: PublicKeyBundle }
  | { version: "v2"; address: string; bundle: SignedPublicKeyBundle };

/** A TypeError (an argument check), so outside XmtpClientError; its `code` is in the same list. */
export class InvalidAddressInputError extends TypeError {
  readonly code = "invalid_address" satisfies XmtpClientErrorCode;
  constructor(value: unknown) {
    super(`not an Ethereum address: ${JSON.stringify(value)}`);
    this.name = "InvalidAddressInputError";
  }
}

/** Validates and checksums an address given by the app. */
export function normalizeAddress(address: unknown): string {
  if (typeof address !== "string" || !isAddress(address)) throw new InvalidAddressInputError(address);
  return toChecksumAddress(address);
}

/** The contact an envelope carries if it is valid and vouched for by the topic's wallet; undefined otherwise. */
export async function readContact(envelope: Envelope, address: string, verifier: KeyBundleVerifier): Promise<Contact | undefined> {
  try {
    const decoded = decodeContactBundle(envelope.message);
    const signer =
      decoded.version === "v1" ? await verifier.verifyLegacy(decoded.bundle) : await verifier.verifySigned(decoded.bundle);
    if (signer.toLowerCase() !== address.toLowerCase()) return undefined;
    return decoded.version === "v1"
      ? { version: "v1", address: signer, bundle: decoded.bundle }
      : { version: "v2", address: signer, bundle: decoded.bundle };
  } catch {
    return undefined;
  }
}

const CONTACT_PAGE_SIZE = 5;

/** Newest valid contact of `address`, paging on (5 per page, newest first) until one is found. */
export async function lookupContact(api: MessageApi, address: string, verifier: KeyBundleVerifier): Promise<Contact | undefined> {
  const query = { contentTopic: contactTopic(address), pageSize: CONTACT_PAGE_SIZE, direction: "descending" } as const;
  for await (const envelopes of queryPages(api, query)) {
    for (const envelope of envelopes) {
      const contact = await readContact(envelope, address, verifier);
      if (contact) return contact;
    }
  }
  return undefined;
}

/** The v2 form of any contact (what invitations are sealed to). */
export function signedBundleOf(contact: Contact): SignedPublicKeyBundle {
  return contact.version === "v2" ? contact.bundle : signedPublicKeyBundleFromLegacy(contact.bundle);
}

/** The legacy form of any contact (what v1 messages carry); throws for keys with ns timestamps. */
export function legacyBundleOf(contact: Contact): PublicKeyBundle {
  return contact.version === "v1" ? contact.bundle : legacyPublicKeyBundleFromSigned(contact.bundle);
}

export class ContactBook {
  private readonly contacts = new Map<string, Promise<Contact | undefined>>();

  constructor(
    private readonly api: MessageApi,
    private readonly verifier: KeyBundleVerifier,
  ) {}

  /** The peer's contact, cached once found (the SDK caches too; `forget` clears). */
  get(address: string): Promise<Contact | undefined> {
    const key = normalizeAddress(address);
    let found = this.contacts.get(key);
    if (!found) {
      found = lookupContact(this.api, key, this.verifier);
      this.contacts.set(key, found);
      found.then(
        (contact) => contact ?? this.contacts.delete(key),
        () => this.contacts.delete(key),
      );
    }
    return found;
  }

  forget(address: string): void {
    this.contacts.delete(normalizeAddress(address));
  }

  /** Whether each address has a valid contact (first page of each, in one batch query). */
  async canMessage(addresses: string[]): Promise<boolean[]> {
    const normalized = addresses.map(normalizeAddress);
    const pages = await this.api.batchQuery(
      normalized.map((address) => ({ contentTopic: contactTopic(address), pageSize: CONTACT_PAGE_SIZE, direction: "descending" as const })),
    );
    return Promise.all(
      pages.map(async (envelopes, i) => {
        for (const envelope of envelopes) {
          const contact = await readContact(envelope, normalized[i], this.verifier);
          if (contact) {
            if (!this.contacts.has(normalized[i])) this.contacts.set(normalized[i], Promise.resolve(contact));
            return true;
          }
        }
        return false;
      }),
    );
  }

  /**
   * docs/protocol/identity.md §4: publishes our bundles unless the newest valid entry is already our v2 bundle: v1 then
   * v2 in two requests with increasing timestamps (peers take the newest; v2 must win), or only v1 when `legacyOnly`.
   */
  async publishOwn(keys: UserKeys, legacyOnly: boolean): Promise<boolean> {
    const existing = await lookupContact(this.api, keys.walletAddress, this.verifier);
    const ours = toBinary(SignedPublicKeyBundleSchema, keys.signedBundle);
    if (existing?.version === "v2" && equalBytes(toBinary(SignedPublicKeyBundleSchema, existing.bundle), ours)) return false;
    if (legacyOnly && existing?.version === "v1" && equalBytes(encodeContactBundleV1(existing.bundle), encodeContactBundleV1(keys.publicBundle))) {
      return false;
    }
    const topic = contactTopic(keys.walletAddress);
    const v1Ns = BigInt(Date.now()) * 1_000_000n;
    await this.api.publish([{ contentTopic: topic, timestampNs: v1Ns, message: encodeContactBundleV1(keys.publicBundle) }]);
    if (!legacyOnly) {
      const v2Ns = BigInt(Math.max(Date.now(), Number(v1Ns / 1_000_000n) + 1)) * 1_000_000n;
      await this.api.publish([{ contentTopic: topic, timestampNs: v2Ns, message: encodeContactBundleV2(keys.signedBundle) }]);
    }
    this.contacts.delete(keys.walletAddress);
    return true;
  }
}
