// IndexedDB failures (DOMExceptions) as LocalDatabaseErrors naming the database.
import { LocalDatabaseClosedError, LocalDatabaseError } from "./errors.js";

export function fromIndexedDbError(error: unknown, location: string): unknown {
  if (error instanceof LocalDatabaseError) return error;
  const name = typeof error === "object" && error !== null ? (error as { name?: unknown }).name : undefined;
  const message = error instanceof Error ? error.message : String(error);
  switch (name) {
    case "InvalidStateError":
      return new LocalDatabaseClosedError(location, `the browser closed the connection: ${message}`);
    case "QuotaExceededError":
      return new LocalDatabaseError(`${location}: the browser's storage quota for this site is exhausted (${message})`, location, {
        cause: error,
      });
    default:
      return new LocalDatabaseError(`${location}: IndexedDB failed: ${String(name ?? "Error")}: ${message}`, location, {
        cause: error,
      });
  }
}
