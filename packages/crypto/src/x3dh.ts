// docs/protocol/messages.md §1.3: XMTP's X3DH variant: three ECDH shared points (65 bytes each, uncompressed)
// concatenated into 195 bytes.
import type { Ciphertext } from "@xmtp-ts/proto";
import { decryptAead } from "./aead.js";
import { getCryptoBackend } from "./backend/index.js";
import { concatBytes, toHex } from "./bytes.js";

export interface X3dhOwnKeys {
  identityPrivateKey: Uint8Array;
  preKeyPrivateKey: Uint8Array;
}

export interface X3dhPeerKeys {
  /** 65-byte points. */
  identityPublicKey: Uint8Array;
  preKeyPublicKey: Uint8Array;
}

// The three (private, public) pairs in secret order; both roles produce the same 195 bytes.
function pairs(me: X3dhOwnKeys, peer: X3dhPeerKeys, isRecipient: boolean): [Uint8Array, Uint8Array][] {
  return isRecipient
    ? [
        [me.preKeyPrivateKey, peer.identityPublicKey],
        [me.identityPrivateKey, peer.preKeyPublicKey],
        [me.preKeyPrivateKey, peer.preKeyPublicKey],
      ]
    : [
        [me.identityPrivateKey, peer.preKeyPublicKey],
        [me.preKeyPrivateKey, peer.identityPublicKey],
        [me.preKeyPrivateKey, peer.preKeyPublicKey],
      ];
}

/** The 195-byte secret. `isRecipient` picks the role: the sender and the recipient compute the same bytes. */
export async function x3dhSecret(me: X3dhOwnKeys, peer: X3dhPeerKeys, isRecipient: boolean): Promise<Uint8Array> {
  const { curve } = await getCryptoBackend();
  return concatBytes(...pairs(me, peer, isRecipient).map(([priv, pub]) => curve.ecdhPoint(priv, pub)));
}

/**
 * Remembers X3DH secrets per (my pre-key, peer bundle, role): a conversation's messages and invitations with the
 * same peer then cost no ECDH after the first. Computations in flight are shared too, so a batch opened all at once
 * does each exchange once. Bounded; oldest entries go first.
 */
export class X3dhSecretCache {
  // Keyed by the identity of my pre-key's scalar array (UserKeys keeps one instance), so no key bytes are copied.
  private readonly byPreKey = new WeakMap<Uint8Array, Map<string, CacheEntry>>();
  constructor(private readonly limit = 10_000) {}

  private static peerKey(peer: X3dhPeerKeys, isRecipient: boolean): string {
    return `${isRecipient ? "r" : "s"}${toHex(peer.identityPublicKey)}${toHex(peer.preKeyPublicKey)}`;
  }

  /** The entry for this exchange, created empty if absent. */
  entry(me: X3dhOwnKeys, peer: X3dhPeerKeys, isRecipient: boolean): CacheEntry {
    let entries = this.byPreKey.get(me.preKeyPrivateKey);
    if (!entries) this.byPreKey.set(me.preKeyPrivateKey, (entries = new Map()));
    const key = X3dhSecretCache.peerKey(peer, isRecipient);
    let entry = entries.get(key);
    if (!entry) {
      if (entries.size >= this.limit) entries.delete(entries.keys().next().value!);
      entries.set(key, (entry = {}));
    }
    return entry;
  }

  /** The exact secret, once known. */
  get(me: X3dhOwnKeys, peer: X3dhPeerKeys, isRecipient: boolean): Uint8Array | undefined {
    return this.byPreKey.get(me.preKeyPrivateKey)?.get(X3dhSecretCache.peerKey(peer, isRecipient))?.exact;
  }
}

interface CacheEntry {
  exact?: Uint8Array;
  /** The secret being computed. */
  computing?: Promise<Uint8Array>;
}

/** The exact secret, from the cache when present. */
export async function x3dhSecretCached(
  me: X3dhOwnKeys,
  peer: X3dhPeerKeys,
  isRecipient: boolean,
  cache?: X3dhSecretCache,
): Promise<Uint8Array> {
  if (!cache) return x3dhSecret(me, peer, isRecipient);
  const entry = cache.entry(me, peer, isRecipient);
  if (entry.exact) return entry.exact;
  entry.computing ??= x3dhSecret(me, peer, isRecipient).then(
    (secret) => (entry.exact = secret),
    (err) => {
      entry.computing = undefined;
      throw err;
    },
  );
  return entry.computing;
}

/** Decrypts an AEAD ciphertext keyed by an X3DH secret, from the cache when present. */
export async function decryptWithX3dh(
  ciphertext: Ciphertext | undefined,
  aad: Uint8Array,
  me: X3dhOwnKeys,
  peer: X3dhPeerKeys,
  isRecipient: boolean,
  cache?: X3dhSecretCache,
): Promise<Uint8Array> {
  return decryptAead(ciphertext, await x3dhSecretCached(me, peer, isRecipient, cache), aad);
}
