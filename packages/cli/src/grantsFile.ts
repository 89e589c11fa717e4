// Relationship grants this CLI's identities hold as grantees (docs/postage.md §3.3), kept on disk between runs. The
// client keeps grants in memory only, and every `xmtp` command is a new process: a grant accepted by one command is
// written here, and every later command hands the file's grants back to the client (`acceptGrant`) before it
// writes anything. The file lives beside the key file, mode 0600 (a grant is no secret, but the list says who lets
// you write to them), and may hold the grants of several identities: each entry names its grantee.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CliError } from "./errors.js";
import { writePrivateFile } from "./privateFile.js";

export const GRANTS_FILE_TYPE = "xmtp-ts/postage-grants";
export const GRANTS_FILE_NAME = "postage-grants.json";

/** The part of a client-side grant the file needs (a PostageGrant of @xmtp-ts/client is one). */
export interface GrantLike {
  grantor: string;
  grantee: string;
  expiresAt: Date;
  chainId: bigint;
  vault: string;
  base64: string;
}

/** One grant in the file: the base64 bytes are what counts; the other fields are for people reading it. */
export interface StoredGrant {
  grantor: string;
  grantee: string;
  expiresAt: string;
  chainId: string;
  vault: string;
  grant: string;
}

interface GrantsFileContents {
  type: typeof GRANTS_FILE_TYPE;
  version: 1;
  grants: StoredGrant[];
}

/** Where the grants of the identity in `keyFile` are kept: postage-grants.json in the key file's directory. */
export function grantsFileFor(keyFile: string): string {
  return join(dirname(keyFile), GRANTS_FILE_NAME);
}

function isStoredGrant(value: unknown): value is StoredGrant {
  if (typeof value !== "object" || value === null) return false;
  const entry = value as Record<string, unknown>;
  return ["grantor", "grantee", "expiresAt", "chainId", "vault", "grant"].every((key) => typeof entry[key] === "string");
}

/** Every entry of the file; none when it does not exist. A file that is not ours is an error, never overwritten. */
export function readGrantsFile(path: string): StoredGrant[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new CliError("IDENTITY", `cannot read the grants file ${path}: ${(err as Error).message}`);
  }
  let json: Partial<GrantsFileContents>;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CliError("IDENTITY", `the grants file ${path} is not valid JSON (${(err as Error).message}); fix or remove it`);
  }
  if (json?.type !== GRANTS_FILE_TYPE || json.version !== 1 || !Array.isArray(json.grants) || !json.grants.every(isStoredGrant)) {
    throw new CliError("IDENTITY", `the grants file ${path} is not an xmtp-ts grants file; fix or remove it`);
  }
  return json.grants;
}

export function storedGrantOf(grant: GrantLike): StoredGrant {
  return {
    grantor: grant.grantor,
    grantee: grant.grantee,
    expiresAt: grant.expiresAt.toISOString(),
    chainId: grant.chainId.toString(),
    vault: grant.vault,
    grant: grant.base64,
  };
}

/** Writes the file atomically, mode 0600 (its directory 0700 when created). */
export function writeGrantsFile(path: string, grants: StoredGrant[]): void {
  const contents: GrantsFileContents = { type: GRANTS_FILE_TYPE, version: 1, grants };
  try {
    writePrivateFile(path, JSON.stringify(contents, null, 2) + "\n");
  } catch (err) {
    throw new CliError("IDENTITY", `cannot write the grants file ${path}: ${(err as Error).message}`);
  }
}

/** What the client's grant store offers for keeping grants across processes. */
export interface GrantHolder {
  acceptGrant(grant: string): GrantLike;
  grants(): GrantLike[];
}

/**
 * One identity's view of the grants file: `restore` hands its grants to the client, `save` writes back what the
 * client holds when that changed (a grant accepted, or one received inside a conversation while reading it). Other
 * identities' entries are left as they are; this identity's expired entries are dropped.
 */
export class GrantBook {
  /** The base64 grants of this identity as the file holds them since the last restore or save. */
  private onDisk = new Set<string>();

  constructor(
    readonly path: string,
    /** The identity's address: the grantee of its grants. */
    readonly owner: string,
  ) {}

  /**
   * Gives the client every grant of this identity in the file. A grant the client refuses now (expired, or
   * otherwise no longer usable) is skipped; the next save drops it. Returns how many the client took.
   */
  restore(holder: GrantHolder): number {
    let restored = 0;
    this.onDisk = new Set();
    for (const entry of readGrantsFile(this.path)) {
      if (entry.grantee !== this.owner) continue;
      this.onDisk.add(entry.grant);
      try {
        holder.acceptGrant(entry.grant);
        restored++;
      } catch {
        // Expired since it was saved (or edited by hand): it no longer opens anything.
      }
    }
    return restored;
  }

  /**
   * Writes the client's grants to the file if they differ from it. Returns the grants that were not in the file
   * before (accepted or received since), none when nothing changed or only expired ones left.
   */
  save(holder: GrantHolder): GrantLike[] {
    const held = holder.grants().filter((grant) => grant.grantee === this.owner);
    const current = new Set(held.map((grant) => grant.base64));
    if (current.size === this.onDisk.size && [...current].every((grant) => this.onDisk.has(grant))) return [];
    const others = readGrantsFile(this.path).filter((entry) => entry.grantee !== this.owner);
    writeGrantsFile(this.path, [...others, ...held.map(storedGrantOf)]);
    const added = held.filter((grant) => !this.onDisk.has(grant.base64));
    this.onDisk = current;
    return added;
  }
}
