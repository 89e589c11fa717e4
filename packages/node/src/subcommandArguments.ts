// Operator subcommands (`xmtp-node authz …`, `xmtp-node retention …`) take the node's own flags and environment to
// find its database exactly as the node would; everything else on the line is the subcommand's.

/** Splits a subcommand's words and own flags from node flags (`--name value` or `--name=value`). */
export function splitSubcommandArguments(
  argv: readonly string[],
  ownFlags: ReadonlySet<string>,
): { commandArgs: string[]; nodeArgs: string[] } {
  const commandArgs: string[] = [];
  const nodeArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (ownFlags.has(arg) || !arg.startsWith("-")) {
      commandArgs.push(arg);
    } else {
      nodeArgs.push(arg);
      if (!arg.includes("=") && i + 1 < argv.length) nodeArgs.push(argv[++i]);
    }
  }
  return { commandArgs, nodeArgs };
}
