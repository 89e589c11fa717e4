import { openSealedInvitation, type CryptoCaches, type UserKeys } from "@xmtp-ts/crypto";
import type { InvitationJob, InvitationJobResult } from "./protocol.js";

/** Opens invitations in this thread; one result per job, failures as `{ ok: false }`. */
export async function openInvitations(keys: UserKeys, jobs: InvitationJob[], caches: CryptoCaches = {}): Promise<InvitationJobResult[]> {
  return Promise.all(
    jobs.map(async (job): Promise<InvitationJobResult> => {
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
    }),
  );
}
