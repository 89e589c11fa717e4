// Files only their owner may read (keys, grants): written whole or not at all, mode 0600 from the first byte.
import { chmodSync, closeSync, mkdirSync, openSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Writes `text` (or bytes) to `path` atomically (a temporary file renamed over it) with mode 0600, creating the directory with
 * mode 0700 when needed. "wx" with mode 0600 makes the file private from its first byte: no window where it is
 * world-readable. Throws the file system's error.
 */
export function writePrivateFile(path: string, text: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, "wx", 0o600);
  try {
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
  try {
    chmodSync(temporary, 0o600);
    renameSync(temporary, path);
  } catch (err) {
    unlinkSync(temporary);
    throw err;
  }
}
