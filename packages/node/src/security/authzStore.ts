// The persisted allow/deny lists. Both the running node and the `xmtp-node authz` CLI (another process) open the
// same store; a version counter bumped in the same transaction as every change lets the node notice edits cheaply.
import { InvalidAddressError, toChecksumAddress } from "@xmtp-ts/crypto";

export type WalletPermission = "allow" | "deny";

export interface AuthzEntry {
  /** EIP-55 form. */
  address: string;
  permission: WalletPermission;
  /** Higher rate limits; only meaningful for allowed wallets. */
  priority: boolean;
  updatedAtMs: number;
}

export interface AuthzChange {
  address: string;
  permission: WalletPermission;
  priority?: boolean;
}

/**
 * The node's database is not there (no SQLite file, no PostgreSQL schema or node tables) and the caller asked not to
 * create it: `xmtp-node authz` without `--create`, so that a mistyped location is refused rather than silently made.
 */
export class AuthzDatabaseMissingError extends Error {
  override name = "AuthzDatabaseMissingError";
}

export interface AuthzStore {
  /** A counter that grows with every change made by any process sharing the database. */
  version(): Promise<number>;
  list(): Promise<AuthzEntry[]>;
  /** Inserts or replaces the entry for the address; returns it as stored. */
  put(change: AuthzChange): Promise<AuthzEntry>;
  /** Removes the address from both lists; false when it was on neither. */
  remove(address: string): Promise<boolean>;
  close(): Promise<void>;
}

export class AuthzInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthzInputError";
  }
}

/**
 * The EIP-55 form of a wallet address given in all lower case, all upper case or its EIP-55 mixed case, or an
 * AuthzInputError saying what is wrong. Mixed case that is not the address's checksum is refused: it is most likely a
 * mistyped address, and listing it would allow or deny a wallet nobody owns instead of the one meant.
 */
export function normalizeWalletAddress(address: unknown): string {
  if (typeof address !== "string") throw new AuthzInputError("wallet address must be a string");
  try {
    const given = address.trim();
    const checksummed = toChecksumAddress(given);
    const digits = given.slice(2);
    const mixedCase = digits !== digits.toLowerCase() && digits !== digits.toUpperCase();
    if (mixedCase && given.slice(2) !== checksummed.slice(2)) {
      throw new AuthzInputError(
        `${given} does not match its EIP-55 checksum (mixed case must be exact): check the address against where ` +
          "it came from, or give it in all lower case if you are sure of it",
      );
    }
    return checksummed;
  } catch (err) {
    if (err instanceof InvalidAddressError) {
      throw new AuthzInputError(`${err.message} (expected 0x followed by 40 hex digits)`);
    }
    throw err;
  }
}

/** Shared input checks for every AuthzStore implementation. */
export function validateAuthzChange(change: AuthzChange): Required<AuthzChange> {
  const address = normalizeWalletAddress(change.address);
  if (change.permission !== "allow" && change.permission !== "deny") {
    throw new AuthzInputError(`permission must be "allow" or "deny", got ${JSON.stringify(change.permission)}`);
  }
  const priority = change.priority ?? false;
  if (typeof priority !== "boolean") throw new AuthzInputError("priority must be true or false");
  if (priority && change.permission === "deny") {
    throw new AuthzInputError("priority applies to allowed wallets only, not to denied ones");
  }
  return { address, permission: change.permission, priority };
}
