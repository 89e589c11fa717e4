// A SQLite database as files on disk: what removing one takes (its journal, WAL and shared-memory files with it) and
// syncing a file or directory so a rename of a finished database survives a power cut. Shared by the bulk load and
// the page-level snapshot restore, which both build a database beside its final path and rename it into place.
import { closeSync, fsyncSync, openSync, rmSync } from "node:fs";

/** Removes the database at `path` and every side file SQLite may have left next to it. */
export function removeDatabaseFiles(path: string): void {
  for (const suffix of ["", "-journal", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
}

/** fsync of a file, or of a directory (so an entry renamed in it is durable). */
export function syncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
