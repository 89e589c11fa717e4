// `xmtp-node authz …` as a process: the node's own flags and environment (--data-dir, --db, XMTP_*) locate the
// database exactly as they would for the node, the rest goes to the authz CLI.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { ConfigError, parseCommandLine } from "../config.js";
import { AUTHZ_USAGE, runAuthzCli, type AuthzCliIo } from "./authzCli.js";
import { openAuthzStore } from "./layer.js";
import { splitSubcommandArguments } from "../subcommandArguments.js";

const AUTHZ_OWN_FLAGS = new Set(["--priority", "--json", "--help", "-h"]);

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
  const { storage } = parsed.config;
  return runAuthzCli(authzArgs, {
    ...io,
    async openStore() {
      // Lists may be set up before the node first runs, so the data directory may not exist yet.
      if (storage.kind === "sqlite") mkdirSync(dirname(storage.path), { recursive: true });
      return openAuthzStore(storage);
    },
  });
}
