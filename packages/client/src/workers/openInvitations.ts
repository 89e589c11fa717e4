import { openSealedInvitation, type CryptoCaches, type UserKeys } from "@xmtp-ts/crypto";
import type { InvitationJob, InvitationJobResult } from "./protocol.js";

/**
 * Opens invitations in this thread; one result per job, failures as `{ ok: false }`. One after the other: opened
 * all at once, every job's intermediate objects would stay alive until the last one finishes, and the garbage
 * collector would spend a quarter of the time copying them between generations.
 */
export async function openInvitations(keys: UserKeys, jobs: InvitationJob[], caches: CryptoCaches = {}): Promise<InvitationJobResult[]> {
  const results: InvitationJobResult[] = [];
  for (const job of jobs) results.push(await openInvitation(keys, job, caches));
  return results;
}

async function openInvitation(keys: UserKeys, job: InvitationJob, caches: CryptoCaches): Promise<InvitationJobResult> {
  try {
    const opened = await openSealedInvitation(job.message, keys, job.timestampNs, caches);
    return {
      ok: true,
      topic: opened.topic,
      keyMaterial: opened.keyMaterial,
      peerAddress: opened.peerAddress,
      createdNs: opened.createdNs,
      context: opened.context ? { conversationId: opened.context.conversationId, metadata: { ...opened.context.metadata } } : undefined,
      isSender: opened.isSender,
    };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
