// The broadcast's typed errors (codes listed in packages/client/README.md, "Broadcast").
import { XmtpClientError } from "../errors/XmtpClientError.js";
import type { BroadcastReport } from "./types.js";

/** The signal aborted the broadcast: what was done is in `report` and in the resume state; run it again to go on. */
export class BroadcastInterruptedError extends XmtpClientError {
  readonly code = "broadcast_interrupted";
  constructor(readonly report: BroadcastReport) {
    super(
      `broadcast interrupted: ${report.sent.length} of ${report.total} recipients have the message; ` +
        `run it again with the same resume state to go on`,
    );
    this.name = "BroadcastInterruptedError";
  }
}

/** The resume state belongs to another broadcast: another sender or other content. Nothing was sent. */
export class BroadcastResumeMismatchError extends XmtpClientError {
  readonly code = "broadcast_resume_mismatch";
  constructor(
    message: string,
    readonly field: "sender" | "content",
  ) {
    super(message);
    this.name = "BroadcastResumeMismatchError";
  }
}

/** The resume state cannot be read or written (damaged file, disk full, permissions). */
export class BroadcastStateError extends XmtpClientError {
  readonly code = "broadcast_state_unusable";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BroadcastStateError";
  }
}
