// A peer given by an app: a 0x address (checksummed here), or a name resolved with the client's resolver.
import { normalizeAddress } from "../contacts/ContactBook.js";
import { isAddressLike } from "./nameInput.js";
import { NameNotFoundError, NoNameResolverError } from "./nameErrors.js";
import type { NameResolver } from "./NameResolver.js";

/**
 * The address of `peer`: an address as it is (InvalidAddressInputError when malformed), a name through `resolver`
 * (NoNameResolverError without one, NameNotFoundError when it points nowhere; InvalidNameError, NameRpcError).
 */
export async function resolvePeer(peer: string, resolver: NameResolver | undefined): Promise<string> {
  if (typeof peer !== "string" || isAddressLike(peer)) return normalizeAddress(typeof peer === "string" ? peer.trim() : peer);
  if (!resolver) throw new NoNameResolverError(peer);
  const address = await resolver.resolve(peer);
  if (address === null) throw new NameNotFoundError(peer, "no address record");
  return normalizeAddress(address);
}
