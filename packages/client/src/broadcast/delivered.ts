// Whether a send whose outcome is unknown reached the network: the recipient's conversations are asked for a message
// from us with exactly the sent time that was written down before the send, carrying exactly the broadcast's bytes.
import { equalBytes } from "@xmtp-ts/crypto";
import type { Conversation } from "../conversations/Conversation.js";

export interface SentMessageProbe {
  sender: string;
  /** The sent time given to `send` (whole milliseconds), as recorded in the pending record. */
  sentAtMs: number;
  /** The EncodedContent bytes of the broadcast. */
  payload: Uint8Array;
}

/** True if one of `conversations` holds the message described by `probe`. */
export async function isDelivered(conversations: readonly Conversation[], probe: SentMessageProbe): Promise<boolean> {
  const at = new Date(probe.sentAtMs);
  const sentNs = BigInt(probe.sentAtMs) * 1_000_000n;
  const sender = probe.sender.toLowerCase();
  for (const conversation of conversations) {
    const messages = await conversation.messages({ startTime: at, endTime: at });
    const found = messages.some(
      (message) =>
        message.error === undefined &&
        message.sentNs === sentNs &&
        message.senderAddress.toLowerCase() === sender &&
        equalBytes(message.contentBytes, probe.payload),
    );
    if (found) return true;
  }
  return false;
}
