// Faults of the storage underneath (a lost or hung database, a full disk, an I/O error), as opposed to bugs. A store
// throws StoreUnavailableError for them so the API can answer 503 / UNAVAILABLE ("retry later") instead of 500, and
// the node can report itself not ready until the store writes again.

export type StoreOperation = "read" | "write";

export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    /** What could not be done; a store that cannot write may still serve reads. */
    readonly operation: StoreOperation,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

export function isStoreUnavailable(error: unknown): error is StoreUnavailableError {
  return error instanceof StoreUnavailableError;
}

/** What every operation of an envelope store fails with once close() has been called. */
export class StoreClosedError extends Error {
  constructor() {
    super("envelope store is closed");
    this.name = "StoreClosedError";
  }
}
