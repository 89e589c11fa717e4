// The recipient list: addresses checked and made distinct, then which of them can be messaged, asked in batches.
import { normalizeAddress } from "../contacts/ContactBook.js";

/** Checksummed, each once, in first-seen order; an invalid address throws InvalidAddressInputError. */
export function distinctRecipients(addresses: readonly string[]): string[] {
  if (!Array.isArray(addresses)) throw new TypeError("broadcast needs an array of addresses");
  const seen = new Set<string>();
  const out: string[] = [];
  for (const address of addresses) {
    const normalized = normalizeAddress(address);
    if (seen.has(normalized)) continue;
    seen.add(normalized);
    out.push(normalized);
  }
  return out;
}

/** `canMessage` (the client's) over `addresses` in batches of `batchSize` (each one or more batch-queries of contact topics). */
export async function* reachability(
  canMessage: (addresses: string[]) => Promise<boolean[]>,
  addresses: readonly string[],
  batchSize: number,
): AsyncGenerator<{ address: string; reachable: boolean }[]> {
  for (let i = 0; i < addresses.length; i += batchSize) {
    const batch = addresses.slice(i, i + batchSize);
    const answers = await canMessage(batch);
    yield batch.map((address, j) => ({ address, reachable: answers[j] }));
  }
}
