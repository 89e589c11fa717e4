// An Ethereum address typed or pasted by a person: any case is accepted, but mixed case must carry a correct
// EIP-55 checksum, which catches most typos (all-lower or all-upper input has no checksum to check).
import { isAddress, toChecksumAddress } from "@xmtp-ts/crypto";

export type AddressInputCheck =
  /** `address`: the input in its checksummed form. */
  | { ok: true; address: string }
  /** Not 0x followed by 40 hex digits. `input` is the trimmed input. */
  | { ok: false; problem: "not_an_address"; input: string }
  /**
   * Mixed case whose checksum does not match. No correction is offered: the same digits re-cased are most likely the
   * mistyped address itself, a wallet nobody owns. All-lower input of the same digits is accepted, if the user is sure.
   */
  | { ok: false; problem: "wrong_checksum"; input: string };

/** Checks an address a person entered (surrounding spaces ignored); the caller words the problem for its audience. */
export function checkAddressInput(input: string): AddressInputCheck {
  const trimmed = input.trim();
  if (!isAddress(trimmed)) return { ok: false, problem: "not_an_address", input: trimmed };
  const checksummed = toChecksumAddress(trimmed);
  const body = trimmed.slice(2);
  const mixedCase = body !== body.toLowerCase() && body !== body.toUpperCase();
  if (mixedCase && checksummed !== trimmed) return { ok: false, problem: "wrong_checksum", input: trimmed };
  return { ok: true, address: checksummed };
}
