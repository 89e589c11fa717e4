import { parseArgs } from "node:util";
import { isAddress, toChecksumAddress } from "@xmtp-ts/crypto";
import { CliError } from "./errors.js";

export const DEFAULT_API_URL = "http://localhost:5555";
export const DEFAULT_READ_LIMIT = 20;

export type Command =
  | { name: "help"; topic?: string }
  | { name: "version" }
  | { name: "init"; force: boolean }
  | { name: "send"; peerAddress: string; text: string }
  | { name: "list" }
  | { name: "read"; peerAddress: string; limit: number }
  | { name: "stream" }
  | { name: "can-message"; peerAddress: string };

export interface GlobalOptions {
  apiUrl: string;
  /** Set only when given on the command line or in XMTP_KEY_FILE; otherwise the default path applies. */
  keyFile?: string;
  json: boolean;
}

export interface ParsedCommandLine {
  command: Command;
  options: GlobalOptions;
}

export const COMMAND_USAGE: Record<string, string> = {
  init: "xmtp init [--force]",
  send: "xmtp send ADDRESS TEXT        (TEXT \"-\" reads standard input)",
  list: "xmtp list",
  read: `xmtp read ADDRESS [--limit N]  (default ${DEFAULT_READ_LIMIT})`,
  stream: "xmtp stream",
  "can-message": "xmtp can-message ADDRESS",
};

/**
 * A checksummed address, or a CliError("INVALID_ADDRESS"). Mixed-case input must carry a correct EIP-55 checksum,
 * which catches most typos; all-lower or all-upper input has no checksum to check.
 */
export function parseAddress(value: string, what = "ADDRESS"): string {
  const trimmed = value.trim();
  if (!isAddress(trimmed)) {
    throw new CliError(
      "INVALID_ADDRESS",
      `${what} ${JSON.stringify(value)} is not an Ethereum address (expected 0x followed by 40 hex digits)`,
    );
  }
  const checksummed = toChecksumAddress(trimmed);
  const body = trimmed.slice(2);
  const mixedCase = body !== body.toLowerCase() && body !== body.toUpperCase();
  if (mixedCase && checksummed !== trimmed) {
    throw new CliError(
      "INVALID_ADDRESS",
      `${what} ${trimmed} has a wrong EIP-55 checksum (did you mean ${checksummed}? check for a typo)`,
    );
  }
  return checksummed;
}

export function parseApiUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError("USAGE", `--api-url ${JSON.stringify(value)} is not a URL (example: ${DEFAULT_API_URL})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError("USAGE", `--api-url must be an http:// or https:// URL, got ${JSON.stringify(value)}`);
  }
  // The client appends "/message/v1/..." verbatim, so a trailing slash would produce "//message".
  return value.replace(/\/+$/, "");
}

function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_READ_LIMIT;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 10_000) {
    throw new CliError("USAGE", `--limit must be a whole number from 1 to 10000, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function expectPositionals(command: string, positionals: string[], names: string[]): void {
  if (positionals.length < names.length) {
    const missing = names.slice(positionals.length).join(" ");
    throw new CliError("USAGE", `${command}: missing ${missing}\nusage: ${COMMAND_USAGE[command]}`);
  }
}

function rejectExtra(command: string, positionals: string[], expected: number): void {
  if (positionals.length > expected) {
    throw new CliError(
      "USAGE",
      `${command}: unexpected argument ${JSON.stringify(positionals[expected])}\nusage: ${COMMAND_USAGE[command]}`,
    );
  }
}

/** Parses argv (without node and script) plus the environment into one command; throws CliError("USAGE"). */
export function parseCommandLine(argv: string[], env: Record<string, string | undefined>): ParsedCommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        "api-url": { type: "string" },
        "key-file": { type: "string" },
        json: { type: "boolean", default: false },
        limit: { type: "string" },
        force: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", default: false },
      },
    });
  } catch (err) {
    // parseArgs messages are precise ("Unknown option '--foo'"); add where to look for the right spelling.
    throw new CliError("USAGE", `${(err as Error).message}\nrun "xmtp --help" for the options`);
  }
  const { values, positionals } = parsed;
  const options: GlobalOptions = {
    apiUrl: parseApiUrl(values["api-url"] ?? env.XMTP_API_URL ?? DEFAULT_API_URL),
    keyFile: values["key-file"] ?? (env.XMTP_KEY_FILE || undefined),
    json: values.json ?? false,
  };
  if (values["key-file"] === "") throw new CliError("USAGE", "--key-file must not be empty");

  const [name, ...rest] = positionals;
  if (values.version) return { command: { name: "version" }, options };
  if (values.help || name === undefined) return { command: { name: "help", topic: values.help ? name : undefined }, options };

  const onlyFor = (option: "limit" | "force", command: string) => {
    if (values[option] !== undefined && values[option] !== false && name !== command) {
      throw new CliError("USAGE", `--${option} only applies to "xmtp ${command}"`);
    }
  };
  onlyFor("limit", "read");
  onlyFor("force", "init");

  switch (name) {
    case "help":
      return { command: { name: "help", topic: rest[0] }, options };
    case "init":
      rejectExtra(name, rest, 0);
      return { command: { name: "init", force: values.force ?? false }, options };
    case "send": {
      expectPositionals(name, rest, ["ADDRESS", "TEXT"]);
      rejectExtra(name, rest, 2);
      return { command: { name: "send", peerAddress: parseAddress(rest[0]), text: rest[1] }, options };
    }
    case "list":
      rejectExtra(name, rest, 0);
      return { command: { name: "list" }, options };
    case "read":
      expectPositionals(name, rest, ["ADDRESS"]);
      rejectExtra(name, rest, 1);
      return {
        command: { name: "read", peerAddress: parseAddress(rest[0]), limit: parseLimit(values.limit) },
        options,
      };
    case "stream":
      rejectExtra(name, rest, 0);
      return { command: { name: "stream" }, options };
    case "can-message":
      expectPositionals(name, rest, ["ADDRESS"]);
      rejectExtra(name, rest, 1);
      return { command: { name: "can-message", peerAddress: parseAddress(rest[0]) }, options };
    default:
      throw new CliError("USAGE", `unknown command ${JSON.stringify(name)}\nrun "xmtp --help" for the commands`);
  }
}

export const USAGE = `xmtp: chat on an XMTP network from the command line

Usage: xmtp <command> [options]

Commands:
  init                      create or load your identity and register it on the network
  send ADDRESS TEXT         send TEXT to ADDRESS (TEXT "-" reads standard input)
  list                      list your conversations with their latest message
  read ADDRESS [--limit N]  print the last N messages with ADDRESS (default ${DEFAULT_READ_LIMIT})
  stream                    print messages as they arrive, until interrupted (Ctrl-C)
  can-message ADDRESS       tell whether ADDRESS has an XMTP identity (exit 0 if so, 4 if not)

Options:
  --api-url URL     the node (default: $XMTP_API_URL, else ${DEFAULT_API_URL})
  --key-file PATH   your identity file (default: $XMTP_KEY_FILE, else $XMTP_HOME/identity.json,
                    XMTP_HOME defaulting to ~/.xmtp)
  --json            machine-readable output: one JSON document (stream: one JSON object per line)
  --force           init: replace the identity in the key file with the one from XMTP_PRIVATE_KEY
  -h, --help        this help
  --version         the CLI version

Identity:
  "xmtp init" uses the wallet key in XMTP_PRIVATE_KEY (0x + 64 hex digits), else the key file, else creates a
  new random key, saves it to the key file (mode 0600) and registers it on the network. Other commands use
  --key-file if given, else XMTP_PRIVATE_KEY, else the default key file.

Exit codes:
  0 ok   1 internal error   2 usage   3 invalid address   4 peer not on the network   5 node unreachable
  6 identity missing or unusable   7 node refused the request   8 no conversation with that address
`;
