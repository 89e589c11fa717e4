import { XmtpClientError } from "../errors/XmtpClientError.js";

/** A conversation that cannot be started or written to: with yourself, with a wallet not on the network, … */
export class ConversationError extends XmtpClientError {
  readonly code = "conversation_unavailable";
  constructor(message: string) {
    super(message);
    this.name = "ConversationError";
  }
}
