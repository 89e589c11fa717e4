// Messages between the main thread and the invitation workers (structured-clone friendly: bytes, bigints, strings).

export interface InvitationJob {
  message: Uint8Array;
  timestampNs: bigint;
}

export type InvitationJobResult =
  | {
      ok: true;
      topic: string;
      keyMaterial: Uint8Array;
      peerAddress: string;
      createdNs: bigint;
      context?: { conversationId: string; metadata: Record<string, string> };
      isSender: boolean;
    }
  | { ok: false; error: string };

export interface WorkerRequest {
  id: number;
  /** PrivateKeyBundle bytes of the reading identity. */
  keys: Uint8Array;
  jobs: InvitationJob[];
}

export interface WorkerResponse {
  id: number;
  results?: InvitationJobResult[];
  error?: string;
}
