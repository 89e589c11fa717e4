// Why an inbox archive (docs/storage.md §7) was refused: a code for programs, a message for people.
import { XmtpClientError, type ArchiveErrorCode } from "../errors/XmtpClientError.js";

export type { ArchiveErrorCode };

export class ArchiveError extends XmtpClientError {
  constructor(
    readonly code: ArchiveErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ArchiveError";
  }
}
