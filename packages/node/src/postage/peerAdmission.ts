// The postage gate as the relay and catch-up use it: one envelope from a peer at a time, answered rather than thrown.
import { reachTopicKind } from "@xmtp-ts/postage";
import type { StoredEnvelope } from "../store/EnvelopeStore.js";
import type { PostageGate } from "./postageGate.js";
import { PostageRefusedError } from "./postageRefusedError.js";

export type PeerAdmission =
  /** Take it, as it is to be stored (with the proof it is kept with). */
  | { kind: "accept"; envelope: StoredEnvelope }
  /** Refused for postage: not stored, not forwarded, and counted against the peer that sent it. */
  | { kind: "refuse"; reason: string }
  /** The check itself failed (the database is unavailable): not taken now; catch-up offers it again later. */
  | { kind: "unchecked"; reason: string };

export type AdmitFromPeer = (envelope: StoredEnvelope) => Promise<PeerAdmission>;

/** Whether an envelope must pass the gate at all: only reach topics are subject to postage. */
export const needsPostageCheck = (contentTopic: string): boolean => reachTopicKind(contentTopic) !== undefined;

export function peerAdmission(gate: PostageGate): AdmitFromPeer {
  return async (envelope) => {
    try {
      const { envelopes } = await gate.admit([envelope], { door: { kind: "untrusted" }, accepting: false });
      return { kind: "accept", envelope: envelopes[0] as StoredEnvelope };
    } catch (error) {
      if (error instanceof PostageRefusedError) return { kind: "refuse", reason: error.message };
      return { kind: "unchecked", reason: error instanceof Error ? error.message : String(error) };
    }
  };
}
