// `xmtp-node authz allow|deny|remove|list [ADDRESS] [--priority] [--json]`: edits the lists in the node's database
// directly, so it works whether or not the node is running; a running node picks the change up within its refresh
// interval.
import {
  AuthzDatabaseMissingError,
  AuthzInputError,
  normalizeWalletAddress,
  type AuthzEntry,
  type AuthzStore,
} from "./authzStore.js";

export const AUTHZ_USAGE = `Usage: xmtp-node authz <command> [ADDRESS] [options] [--data-dir DIR | --db URL] [--create]

Manages the wallet allow/deny lists kept in the node's database.

Commands:
  allow ADDRESS [--priority]  put the wallet on the allowlist (--priority: higher publish rate limits)
  deny ADDRESS                put the wallet on the denylist (refused in every access mode)
  remove ADDRESS              take the wallet off whichever list it is on
  list [--json]               print both lists

The database is found as the node finds it (--data-dir, --db, XMTP_DATA_DIR, XMTP_DB) and must exist: a node has
run there, or --create makes it (a SQLite file and its directory, or the PostgreSQL schema and tables), for lists
set up before the node first runs. A running node applies changes within about a second.
`;

export interface AuthzCliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface AuthzCliDeps extends AuthzCliIo {
  /**
   * Opens the node's lists. `create` false (no --create): a database that does not exist must be refused with
   * AuthzDatabaseMissingError, and nothing created.
   */
  openStore: (options: { create: boolean }) => Promise<AuthzStore>;
  /** Where the database was looked for, for the refusal's hint: e.g. "--data-dir /srv/xmtp". */
  describeLocation?: () => string;
}

interface ParsedCommand {
  command: "allow" | "deny" | "remove" | "list" | "help";
  address?: string;
  priority: boolean;
  json: boolean;
  create: boolean;
}

class UsageError extends Error {}

function parse(args: string[]): ParsedCommand {
  const positional: string[] = [];
  let priority = false;
  let json = false;
  let create = false;
  for (const arg of args) {
    if (arg === "--priority") priority = true;
    else if (arg === "--json") json = true;
    else if (arg === "--create") create = true;
    else if (arg === "--help" || arg === "-h") return { command: "help", priority, json, create };
    else if (arg.startsWith("-")) throw new UsageError(`unknown option for authz: ${arg}`);
    else positional.push(arg);
  }
  const [command, address, ...extra] = positional;
  if (!command) throw new UsageError("missing command (allow, deny, remove or list)");
  if (command === "help") return { command, priority, json, create };
  if (command !== "allow" && command !== "deny" && command !== "remove" && command !== "list") {
    throw new UsageError(`unknown authz command: ${command}`);
  }
  if (extra.length) throw new UsageError(`unexpected argument: ${extra[0]}`);
  if (command === "list") {
    if (address) throw new UsageError("list takes no address");
  } else if (!address) {
    throw new UsageError(`${command} needs a wallet ADDRESS`);
  }
  if (priority && command !== "allow") throw new UsageError("--priority only goes with allow");
  if (json && command !== "list") throw new UsageError("--json only goes with list");
  return { command, address, priority, json, create };
}

function describe(entry: AuthzEntry): string {
  const flags = entry.permission === "allow" && entry.priority ? "allow (priority)" : entry.permission;
  return `${entry.address}  ${flags.padEnd(16)}  ${new Date(entry.updatedAtMs).toISOString()}`;
}

/** Runs one authz command; resolves to the process exit code (0 ok, 1 failure, 2 usage error). */
export async function runAuthzCli(args: string[], deps: AuthzCliDeps): Promise<number> {
  let parsed: ParsedCommand;
  try {
    parsed = parse(args);
    if (parsed.address) parsed.address = normalizeWalletAddress(parsed.address);
  } catch (err) {
    if (err instanceof UsageError || err instanceof AuthzInputError) {
      deps.stderr(`xmtp-node authz: ${err.message}\n\n${AUTHZ_USAGE}`);
      return 2;
    }
    throw err;
  }
  if (parsed.command === "help") {
    deps.stdout(AUTHZ_USAGE);
    return 0;
  }

  let store: AuthzStore;
  try {
    store = await deps.openStore({ create: parsed.create });
  } catch (err) {
    if (err instanceof AuthzDatabaseMissingError) {
      const where = deps.describeLocation ? ` (${deps.describeLocation()})` : "";
      deps.stderr(
        `xmtp-node authz: ${err.message}${where}. Nothing was changed. Check the location, or add --create to ` +
          `create the database there (for lists set up before the node first runs).\n`,
      );
      return 1;
    }
    deps.stderr(`xmtp-node authz: cannot open the node's database: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    switch (parsed.command) {
      case "allow":
      case "deny": {
        const entry = await store.put({
          address: parsed.address!,
          permission: parsed.command,
          priority: parsed.priority,
        });
        deps.stdout(`${parsed.command === "allow" ? "allowed" : "denied"}: ${describe(entry)}\n`);
        return 0;
      }
      case "remove": {
        if (await store.remove(parsed.address!)) {
          deps.stdout(`removed: ${parsed.address}\n`);
          return 0;
        }
        deps.stderr(`xmtp-node authz: ${parsed.address} is on neither list\n`);
        return 1;
      }
      case "list": {
        const entries = await store.list();
        if (parsed.json) {
          deps.stdout(JSON.stringify(entries.map((e) => ({ ...e, updatedAt: new Date(e.updatedAtMs).toISOString() }))) + "\n");
        } else if (entries.length === 0) {
          deps.stdout("both lists are empty\n");
        } else {
          for (const entry of entries) deps.stdout(describe(entry) + "\n");
        }
        return 0;
      }
    }
  } catch (err) {
    deps.stderr(`xmtp-node authz: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await store.close();
  }
}
