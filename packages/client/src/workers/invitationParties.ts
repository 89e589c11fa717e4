// Invitations between the same two parties are best opened together: the bundle check and the X3DH exchange of
// the second one come from the caches the first one filled. Pools therefore chunk batches in this order.
import { toHex } from "@xmtp-ts/crypto";
import { fromBinary, SealedInvitationHeaderV1Schema, SealedInvitationSchema } from "@xmtp-ts/proto";
import type { InvitationJob } from "./protocol.js";

/** The jobs' indexes, invitations between the same two parties next to each other, otherwise in their order. */
export function orderByParties(jobs: InvitationJob[]): number[] {
  return jobs
    .map((job, index) => ({ index, parties: partiesOf(job.message) }))
    .sort((a, b) => (a.parties < b.parties ? -1 : a.parties > b.parties ? 1 : a.index - b.index))
    .map(({ index }) => index);
}

/** The two identity keys an invitation is between (cheap: no crypto), or "" when it does not parse. */
function partiesOf(message: Uint8Array): string {
  try {
    const sealed = fromBinary(SealedInvitationSchema, message);
    if (sealed.version.case !== "v1") return "";
    const header = fromBinary(SealedInvitationHeaderV1Schema, sealed.version.value.headerBytes);
    const a = toHex(header.sender?.identityKey?.keyBytes ?? new Uint8Array(0));
    const b = toHex(header.recipient?.identityKey?.keyBytes ?? new Uint8Array(0));
    return a < b ? a + b : b + a;
  } catch {
    return "";
  }
}
