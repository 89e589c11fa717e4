// Telling an address from a name in what an app or a person passes as a peer, and normalizing names (ENSIP-15,
// through ethers' ensNormalize) so that equal names are equal strings.
import { ensNormalize } from "ethers";
import { InvalidNameError } from "./nameErrors.js";

/**
 * Whether the input is meant as an address: it starts with 0x and has no dot (names have one: 0xfoo.eth is a name).
 * Such input is never looked up as a name, so a mistyped address is reported as an address.
 */
export function isAddressLike(input: string): boolean {
  const trimmed = input.trim();
  return /^0x/i.test(trimmed) && !trimmed.includes(".");
}

/** The normalized form of a name (lower case, ENSIP-15), or InvalidNameError. */
export function normalizeName(input: string): string {
  const name = input.trim();
  if (name === "") throw new InvalidNameError(input, "it is empty");
  if (isAddressLike(name)) throw new InvalidNameError(input, "it looks like an address");
  if (!name.includes(".")) throw new InvalidNameError(input, "it has no dot; ENS names end in a suffix such as .eth");
  if (name.split(".").some((label) => label === "")) throw new InvalidNameError(input, "it has an empty label");
  let normalized: string;
  try {
    normalized = ensNormalize(name);
  } catch (err) {
    const reason = (err as { shortMessage?: unknown }).shortMessage;
    throw new InvalidNameError(input, typeof reason === "string" ? reason : "ENS normalization refuses it");
  }
  return normalized;
}
