// What a client opens batches of invitations with: the Node.js pool (worker threads, ./InvitationPool.ts) or the
// browser one (Web Workers, ./WebInvitationPool.ts); sharedInvitationPool() picks the one for the runtime.
import type { CryptoCaches, UserKeys } from "@xmtp-ts/crypto";
import type { InvitationJob, InvitationJobResult } from "./protocol.js";

export interface InvitationOpener {
  /** Whether big batches go to workers. */
  readonly parallel: boolean;
  /** Starts the workers ahead of the first batch (they take tens of milliseconds to load). */
  warmUp(): Promise<void>;
  /** Opens every invitation; one result per job, in order. */
  open(keys: UserKeys, jobs: InvitationJob[], caches?: CryptoCaches): Promise<InvitationJobResult[]>;
  close(): Promise<void>;
}
