// `xmtp-node authz …` as a process: the node's own flags and environment (--data-dir, --db, XMTP_*) locate the
// database exactly as they would for the node, the rest goes to the authz CLI.
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { ConfigError, parseCommandLine } from "../config.js";
import { AUTHZ_USAGE, runAuthzCli, type AuthzCliIo } from "./authzCli.js";
import { AuthzDatabaseMissingError } from "./authzStore.js";
import { openAuthzStore } from "./layer.js";
import { splitSubcommandArguments } from "../subcommandArguments.js";

const AUTHZ_OWN_FLAGS = new Set(["--priority", "--json", "--create", "--help", "-h"]);

/** Splits authz arguments (command, address, its own flags) from node flags (`--name value` or `--name=value`). */
export function splitAuthzArguments(argv: readonly string[]): { authzArgs: string[]; nodeArgs: string[] } {
  const { commandArgs, nodeArgs } = splitSubcommandArguments(argv, AUTHZ_OWN_FLAGS);
  return { authzArgs: commandArgs, nodeArgs };
}

export async function runAuthzCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: AuthzCliIo,
): Promise<number> {
  const { authzArgs, nodeArgs } = splitAuthzArguments(argv);
  let parsed;
  try {
    parsed = parseCommandLine(nodeArgs, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`xmtp-node authz: ${error.message}\n\n${AUTHZ_USAGE}`);
    return 2;
  }
  if (parsed.help) {
    io.stdout(AUTHZ_USAGE);
    return 0;
  }
  const { storage, dataDir } = parsed.config;
  const dbGiven = nodeArgs.some((arg) => arg === "--db" || arg.startsWith("--db=")) || Boolean(env.XMTP_DB);
  return runAuthzCli(authzArgs, {
    ...io,
    async openStore({ create }) {
      if (storage.kind === "sqlite") {
        if (!create && !existsSync(storage.path)) {
          const dir = dirname(storage.path);
          const missingDir = existsSync(dir) ? "" : `; the directory ${dir} does not exist either`;
          throw new AuthzDatabaseMissingError(`there is no node database at ${storage.path}${missingDir}`);
        }
        // Lists may be set up before the node first runs (--create), so the data directory may not exist yet.
        if (create) mkdirSync(dirname(storage.path), { recursive: true });
      }
      return openAuthzStore(storage, undefined, { create });
    },
    describeLocation() {
      if (dbGiven) return storage.kind === "sqlite" ? `from --db ${storage.path}` : "from --db";
      const dirGiven = nodeArgs.some((arg) => arg === "--data-dir" || arg.startsWith("--data-dir=")) || Boolean(env.XMTP_DATA_DIR);
      return dirGiven ? `from --data-dir ${dataDir}` : `the default --data-dir, ${dataDir}`;
    },
  });
}
