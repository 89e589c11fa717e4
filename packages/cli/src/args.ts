import { parseArgs } from "node:util";
import { checkAddressInput, InvalidNameError, isAddressLike, normalizeName } from "@xmtp-ts/client";
import { CliError } from "./errors.js";
import { BROADCAST_OPTIONS, BROADCAST_USAGE, parseBroadcastArgs, rejectBroadcastOptions, type BroadcastCommand } from "./broadcastArgs.js";

export const DEFAULT_API_URL = "http://localhost:5555";
export const DEFAULT_READ_LIMIT = 20;
/** How long a relationship grant made by `xmtp grant` admits first messages, unless --days says otherwise. */
export const DEFAULT_GRANT_DAYS = 30;
export const MAX_GRANT_DAYS = 3650;

export type PostageAction = "quote" | "balance" | "deposit" | "withdraw";

export type Command =
  | { name: "help"; topic?: string }
  | { name: "version" }
  | { name: "init"; force: boolean }
  | { name: "whoami" }
  // peerAddress: an address, or a name (parsePeer) that the command resolves with --eth-rpc-url.
  | { name: "send"; peerAddress: string; text: string; maxPriceWei?: bigint }
  | { name: "list" }
  | { name: "read"; peerAddress: string; limit: number }
  | { name: "read-archive"; file: string; peerAddress?: string; limit?: number }
  | { name: "export"; file: string }
  | { name: "import"; file: string }
  | { name: "stream" }
  | { name: "can-message"; peerAddress: string }
  | { name: "chat"; peerAddress: string }
  | { name: "postage"; action: "quote" | "balance" | "withdraw"; rpcUrl?: string }
  | { name: "postage"; action: "deposit"; amountWei: bigint; rpcUrl?: string }
  | { name: "grant"; peerAddress: string; days: number; send: boolean }
  | { name: "accept-grant"; grant: string }
  | BroadcastCommand;

export interface GlobalOptions {
  apiUrl: string;
  /** An Ethereum JSON-RPC for names (ENS): --eth-rpc-url or XMTP_ETH_RPC_URL; without it only addresses are used. */
  ethRpcUrl?: string;
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
  whoami: "xmtp whoami  (your identity's address, its key's source and the node it is for)",
  send:
    "xmtp send ADDRESS TEXT... [--max-price WEI]  (the words after ADDRESS are joined with spaces; TEXT \"-\" reads\n" +
    "       standard input; after \"--\" words starting with - are text too)",
  list: "xmtp list",
  read: `xmtp read ADDRESS [--limit N]  (default ${DEFAULT_READ_LIMIT}) | xmtp read --archive FILE [ADDRESS] [--limit N]`,
  export: "xmtp export FILE  (FILE: the archive to write, encrypted for your identity)",
  import: "xmtp import FILE --api-url URL  (republishes what the node at URL lacks)",
  stream: "xmtp stream",
  "can-message": "xmtp can-message ADDRESS",
  chat: "xmtp chat ADDRESS  (interactive: type lines to send them, new messages show as they arrive; /quit or Ctrl-D leaves)",
  postage:
    "xmtp postage quote | balance | deposit WEI | deposit --eth AMOUNT | withdraw  [--rpc URL]\n" +
    "       (the payer's key from XMTP_PAYER_KEY; its chain RPC from --rpc or XMTP_PAYER_RPC)",
  grant: `xmtp grant ADDRESS [--days N] [--send]  (default ${DEFAULT_GRANT_DAYS} days)`,
  "accept-grant": "xmtp accept-grant GRANT  (GRANT \"-\" reads standard input)",
  broadcast: BROADCAST_USAGE,
};

/**
 * A checksummed address, or a CliError("INVALID_ADDRESS"). Mixed-case input must carry a correct EIP-55 checksum,
 * which catches most typos; all-lower or all-upper input has no checksum to check.
 */
export function parseAddress(value: string, what = "ADDRESS"): string {
  const check = checkAddressInput(value);
  if (check.ok) return check.address;
  if (check.problem === "not_an_address") {
    throw new CliError(
      "INVALID_ADDRESS",
      `${what} ${JSON.stringify(value)} is not an Ethereum address (expected 0x followed by 40 hex digits)`,
    );
  }
  // No "did you mean": the same digits re-cased are most likely the address with the typo, a wallet nobody owns.
  throw new CliError(
    "INVALID_ADDRESS",
    `${what} ${check.input} does not match its EIP-55 checksum (its mixed case): a character is probably mistyped; ` +
      `check it against the original, or if you are sure of it, give it in all lower case (no checksum is checked then)`,
  );
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

/**
 * A peer as typed: a checksummed address (see parseAddress), or a name such as alice.eth (normalized; resolved when
 * the command runs, which needs --eth-rpc-url). Input starting with 0x is always taken as an address.
 */
export function parsePeer(value: string, what = "ADDRESS"): string {
  if (isAddressLike(value)) return parseAddress(value, what);
  try {
    return normalizeName(value);
  } catch (err) {
    if (!(err instanceof InvalidNameError)) throw err;
    throw new CliError(
      "INVALID_ADDRESS",
      `${what} ${JSON.stringify(value)} is neither an Ethereum address (0x followed by 40 hex digits) nor a name like alice.eth`,
      { cause: err },
    );
  }
}

/** A URL of an http(s) JSON-RPC endpoint of the payer's chain. */
export function parseRpcUrl(value: string, origin: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError("USAGE", `${origin} ${JSON.stringify(value)} is not a URL (example: http://127.0.0.1:8545)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError("USAGE", `${origin} must be an http:// or https:// URL, got ${JSON.stringify(value)}`);
  }
  return value;
}

const UINT256_LIMIT = 1n << 256n;

/** A whole number of wei (decimal digits only: no units, no exponent), below 2^256. */
export function parseWei(value: string, origin: string, options: { positive?: boolean } = {}): bigint {
  const trimmed = value.trim();
  if (!/^\d{1,78}$/.test(trimmed) || BigInt(trimmed) >= UINT256_LIMIT) {
    throw new CliError("USAGE", `${origin} must be a whole number of wei (digits only, e.g. 1000000), got ${JSON.stringify(value)}`);
  }
  const wei = BigInt(trimmed);
  if (options.positive && wei === 0n) throw new CliError("USAGE", `${origin} must be more than 0 wei`);
  return wei;
}

/** An amount of ether as a decimal ("0.01", "1", "2.5"), in wei: at most 18 decimal places, more than 0. */
export function parseEther(value: string, origin: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,18}))?$/.exec(value.trim());
  if (!match) {
    throw new CliError("USAGE", `${origin} must be an amount of ether like 0.01 (at most 18 decimals), got ${JSON.stringify(value)}`);
  }
  const wei = BigInt(match[1]) * 10n ** 18n + BigInt((match[2] ?? "").padEnd(18, "0"));
  if (wei === 0n) throw new CliError("USAGE", `${origin} must be more than 0`);
  if (wei >= UINT256_LIMIT) throw new CliError("USAGE", `${origin} is too large`);
  return wei;
}

function parseDays(value: string | undefined): number {
  if (value === undefined) return DEFAULT_GRANT_DAYS;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_GRANT_DAYS) {
    throw new CliError("USAGE", `--days must be a whole number from 1 to ${MAX_GRANT_DAYS}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

const POSTAGE_ACTIONS: readonly PostageAction[] = ["quote", "balance", "deposit", "withdraw"];

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
        "eth-rpc-url": { type: "string" },
        "key-file": { type: "string" },
        json: { type: "boolean", default: false },
        limit: { type: "string" },
        force: { type: "boolean", default: false },
        "max-price": { type: "string" },
        rpc: { type: "string" },
        eth: { type: "string" },
        days: { type: "string" },
        send: { type: "boolean", default: false },
        archive: { type: "string" },
        ...BROADCAST_OPTIONS,
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
  const ethRpc = values["eth-rpc-url"] ?? (env.XMTP_ETH_RPC_URL || undefined);
  if (ethRpc !== undefined) {
    options.ethRpcUrl = parseRpcUrl(ethRpc, values["eth-rpc-url"] !== undefined ? "--eth-rpc-url" : "XMTP_ETH_RPC_URL");
  }
  if (values["key-file"] === "") throw new CliError("USAGE", "--key-file must not be empty");

  const [name, ...rest] = positionals;
  if (values.version) return { command: { name: "version" }, options };
  if (values.help || name === undefined) return { command: { name: "help", topic: values.help ? name : undefined }, options };

  const onlyFor = (option: "limit" | "force" | "max-price" | "rpc" | "eth" | "days" | "send" | "archive", command: string, also?: string) => {
    if (values[option] !== undefined && values[option] !== false && name !== command) {
      throw new CliError("USAGE", `--${option} only applies to "xmtp ${command}${also ?? ""}"`);
    }
  };
  onlyFor("limit", "read");
  onlyFor("force", "init");
  onlyFor("max-price", "send");
  onlyFor("rpc", "postage");
  onlyFor("eth", "postage", " deposit");
  onlyFor("days", "grant");
  onlyFor("send", "grant");
  onlyFor("archive", "read");
  rejectBroadcastOptions(name, values);

  switch (name) {
    case "help":
      return { command: { name: "help", topic: rest[0] }, options };
    case "init":
      rejectExtra(name, rest, 0);
      return { command: { name: "init", force: values.force ?? false }, options };
    case "whoami":
      rejectExtra(name, rest, 0);
      return { command: { name: "whoami" }, options };
    case "send": {
      expectPositionals(name, rest, ["ADDRESS", "TEXT"]);
      // The default comes from the environment, like the payer's key: a shell profile sets both once.
      const maxPrice = values["max-price"] ?? (env.XMTP_PAYER_MAX_PRICE || undefined);
      const origin = values["max-price"] !== undefined ? "--max-price" : "XMTP_PAYER_MAX_PRICE";
      return {
        command: {
          name: "send",
          peerAddress: parsePeer(rest[0]),
          // `xmtp send 0x… hello world`: the shell splits the text; join it back (quote it to keep repeated spaces).
          text: rest.slice(1).join(" "),
          ...(maxPrice !== undefined ? { maxPriceWei: parseWei(maxPrice, origin) } : {}),
        },
        options,
      };
    }
    case "list":
      rejectExtra(name, rest, 0);
      return { command: { name: "list" }, options };
    case "read":
      if (values.archive !== undefined) {
        if (values.archive === "") throw new CliError("USAGE", "--archive must name a file");
        rejectExtra(name, rest, 1);
        return {
          command: {
            name: "read-archive",
            file: values.archive,
            ...(rest[0] !== undefined ? { peerAddress: parseAddress(rest[0]) } : {}),
            ...(values.limit !== undefined ? { limit: parseLimit(values.limit) } : {}),
          },
          options,
        };
      }
      expectPositionals(name, rest, ["ADDRESS"]);
      rejectExtra(name, rest, 1);
      return {
        command: { name: "read", peerAddress: parsePeer(rest[0]), limit: parseLimit(values.limit) },
        options,
      };
    case "export":
    case "import":
      expectPositionals(name, rest, ["FILE"]);
      rejectExtra(name, rest, 1);
      if (rest[0] === "") throw new CliError("USAGE", `${name}: FILE must not be empty`);
      return { command: { name, file: rest[0] }, options };
    case "stream":
      rejectExtra(name, rest, 0);
      return { command: { name: "stream" }, options };
    case "chat":
      expectPositionals(name, rest, ["ADDRESS"]);
      rejectExtra(name, rest, 1);
      return { command: { name: "chat", peerAddress: parsePeer(rest[0]) }, options };
    case "can-message":
      expectPositionals(name, rest, ["ADDRESS"]);
      rejectExtra(name, rest, 1);
      return { command: { name: "can-message", peerAddress: parsePeer(rest[0]) }, options };
    case "postage": {
      expectPositionals(name, rest, ["quote|balance|deposit|withdraw"]);
      const action = rest[0] as PostageAction;
      if (!POSTAGE_ACTIONS.includes(action)) {
        throw new CliError("USAGE", `postage: unknown action ${JSON.stringify(rest[0])}\nusage: ${COMMAND_USAGE.postage}`);
      }
      const rpc = values.rpc ?? (env.XMTP_PAYER_RPC || undefined);
      const rpcUrl = rpc === undefined ? undefined : parseRpcUrl(rpc, values.rpc !== undefined ? "--rpc" : "XMTP_PAYER_RPC");
      const withRpc = rpcUrl === undefined ? {} : { rpcUrl };
      if (action !== "deposit") {
        if (values.eth !== undefined) throw new CliError("USAGE", `--eth only applies to "xmtp postage deposit"`);
        rejectExtra(name, rest, 1);
        return { command: { name: "postage", action, ...withRpc }, options };
      }
      rejectExtra(name, rest, 2);
      if (values.eth !== undefined && rest[1] !== undefined) {
        throw new CliError("USAGE", `postage deposit: give the amount either in wei (WEI) or in ether (--eth AMOUNT), not both`);
      }
      if (values.eth === undefined && rest[1] === undefined) {
        throw new CliError("USAGE", `postage deposit: missing WEI (or --eth AMOUNT)\nusage: ${COMMAND_USAGE.postage}`);
      }
      const amountWei = values.eth !== undefined ? parseEther(values.eth, "--eth") : parseWei(rest[1], "WEI", { positive: true });
      return { command: { name: "postage", action, amountWei, ...withRpc }, options };
    }
    case "grant":
      expectPositionals(name, rest, ["ADDRESS"]);
      rejectExtra(name, rest, 1);
      return {
        command: { name: "grant", peerAddress: parsePeer(rest[0]), days: parseDays(values.days), send: values.send ?? false },
        options,
      };
    case "broadcast":
      return { command: parseBroadcastArgs(rest, values), options };
    case "accept-grant":
      expectPositionals(name, rest, ["GRANT"]);
      rejectExtra(name, rest, 1);
      return { command: { name: "accept-grant", grant: rest[0] }, options };
    default:
      throw new CliError("USAGE", `unknown command ${JSON.stringify(name)}\nrun "xmtp --help" for the commands`);
  }
}

export const USAGE = `xmtp: chat on an XMTP network from the command line

Usage: xmtp <command> [options]

Commands:
  init                      create or load your identity and register it on the network
  whoami                    print your identity's address and the node (--api-url) it is for
  send ADDRESS TEXT...      send TEXT to ADDRESS: the words after ADDRESS, joined with spaces (TEXT "-" reads
                            standard input; after "--", words starting with - are text too)
  list                      list your conversations with their latest message
  read ADDRESS [--limit N]  print the last N messages with ADDRESS (default ${DEFAULT_READ_LIMIT})
  stream                    print messages as they arrive, until interrupted (Ctrl-C)
  export FILE               write every envelope of your inbox to FILE, encrypted for your identity
  import FILE               republish the archive FILE to the node (--api-url), only what it lacks
  read --archive FILE [ADDRESS]
                            read the conversations in the archive FILE offline (all, or those with ADDRESS)
  chat ADDRESS              chat with ADDRESS interactively: the recent messages, then new ones as they arrive;
                            each line typed is sent (/quit, Ctrl-D or Ctrl-C leaves)
  can-message ADDRESS       tell whether ADDRESS has an XMTP identity (exit 0 if so, 4 if not)
  grant ADDRESS [--days N]  let ADDRESS write you first messages free for N days (default ${DEFAULT_GRANT_DAYS}); prints
                            the grant as base64 (--send also sends it in your conversation with ADDRESS)
  accept-grant GRANT        keep a grant someone gave you (base64; "-" reads standard input)
  broadcast --to FILE TEXT...
                            send TEXT to every address in FILE (one per line), each exactly once; resumable
                            (--resume STATE, default FILE.broadcast.json; --concurrency N, default 8)
  postage quote             the node's postage terms (price, chain, vault, operator)
  postage balance           your payer's deposit with the node's operator: deposited, owed, available
  postage deposit WEI       deposit WEI (or --eth AMOUNT) into the vault for the node's operator
  postage withdraw          first run: ask to withdraw; after the vault's delay: withdraw

Options:
  --api-url URL     the node (default: $XMTP_API_URL, else ${DEFAULT_API_URL})
  --eth-rpc-url URL an Ethereum JSON-RPC for ENS names (default: $XMTP_ETH_RPC_URL): ADDRESS may then be a name
                    (alice.eth), and list, read and stream show verified names beside addresses
  --key-file PATH   your identity file (default: $XMTP_KEY_FILE, else $XMTP_HOME/identity.json,
                    XMTP_HOME defaulting to ~/.xmtp)
  --json            machine-readable output: one JSON document (stream: one JSON object per line)
  --force           init: replace the identity in the key file with the one from XMTP_PRIVATE_KEY
  --max-price WEI   send: never pay more postage than WEI per message (default: $XMTP_PAYER_MAX_PRICE)
  --rpc URL         postage: the payer's chain JSON-RPC endpoint (default: $XMTP_PAYER_RPC)
  --archive FILE    read: read an inbox archive offline instead of the node
  -h, --help        this help
  --version         the CLI version

Identity:
  "xmtp init" uses the wallet key in XMTP_PRIVATE_KEY (0x + 64 hex digits), else the key file, else creates a
  new random key, saves it to the key file (mode 0600) and registers it on the network. Other commands use
  --key-file if given, else XMTP_PRIVATE_KEY, else the default key file.

Postage (nodes that charge strangers for first messages):
  A first message to someone who never wrote to you is free with their grant ("xmtp accept-grant"), else paid by
  the payer account whose private key is in XMTP_PAYER_KEY (never a flag: flags show in ps), from its deposit
  ("xmtp postage deposit", which also needs the chain's RPC: --rpc URL or XMTP_PAYER_RPC). Accepted grants are kept
  in postage-grants.json beside the key file.

Exit codes:
  0 ok   1 internal error   2 usage   3 invalid address   4 peer not on the network   5 node unreachable
  6 identity missing or unusable   7 node refused the request   8 no conversation with that address
  9 postage: the node wants postage that was not paid (or a postage action cannot be done now)
  10 the payer's chain: RPC unreachable, on another chain than the node's vault, or a transaction failed
  11 an inbox archive that cannot be used: not an archive, damaged, altered, or another identity's
  12 a name that resolves to no address, or the Ethereum JSON-RPC for names (--eth-rpc-url) failed
  broadcast: 4 some recipients not on the network, 7 some sends failed, 130 interrupted (run it again to go on)
`;
