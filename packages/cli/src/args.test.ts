import { describe, expect, it } from "vitest";
import { DEFAULT_API_URL, parseAddress, parseCommandLine, parseEther } from "./args.js";
import { CliError, ExitCode } from "./errors.js";

const PEER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"; // an example from the EIP-55 specification

function failure(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error("expected a CliError");
}

describe("parseAddress", () => {
  it("accepts lower-case input and returns the checksummed form", () => {
    expect(parseAddress(PEER.toLowerCase())).toBe(PEER);
  });

  it("rejects what is not an address, naming the input", () => {
    const error = failure(() => parseAddress("0x1234"));
    expect(error.kind).toBe("INVALID_ADDRESS");
    expect(error.message).toContain('"0x1234"');
  });

  it("rejects a mixed-case address whose checksum is wrong without suggesting it re-cased", () => {
    // Same hex digits, one letter's case flipped: the checksum no longer matches.
    const typo = PEER.slice(0, 4) + PEER[4].toLowerCase() + PEER.slice(5);
    expect(typo.toLowerCase()).toBe(PEER.toLowerCase());
    const error = failure(() => parseAddress(typo));
    expect(error.kind).toBe("INVALID_ADDRESS");
    expect(error.message).toContain(`${typo} does not match its EIP-55 checksum`);
    expect(error.message).toContain("all lower case");
    // The re-cased digits are most likely the mistyped address itself: never offered, in any case.
    expect(error.message).not.toContain(PEER);
    expect(error.message).not.toMatch(/did you mean/i);
    expect(error.message.match(/0x[0-9a-fA-F]{40}/g)).toEqual([typo]);
  });
});

describe("parseCommandLine", () => {
  it("parses send with the global options anywhere on the line", () => {
    const { command, options } = parseCommandLine(
      ["send", "--json", PEER.toLowerCase(), "hello there", "--api-url", "http://127.0.0.1:9/"],
      {},
    );
    expect(command).toEqual({ name: "send", peerAddress: PEER, text: "hello there" });
    expect(options).toEqual({ apiUrl: "http://127.0.0.1:9", json: true, keyFile: undefined });
  });

  it("joins the words after ADDRESS into the text of send", () => {
    expect(parseCommandLine(["send", PEER, "hello", "world"], {}).command).toEqual({ name: "send", peerAddress: PEER, text: "hello world" });
    // Options may still come between and after the words; quoted text keeps its own spacing.
    expect(parseCommandLine(["send", PEER, "gm", "--json", "to  you", "all"], {}).command).toMatchObject({ text: "gm to  you all" });
    // After "--" words that look like options are text.
    expect(parseCommandLine(["send", PEER, "--", "--json", "-h", "is", "text"], {})).toMatchObject({
      command: { text: "--json -h is text" },
      options: { json: false },
    });
    // A lone "-" still means standard input (run.ts reads it); "-" among other words is only text.
    expect(parseCommandLine(["send", PEER, "-"], {}).command).toMatchObject({ text: "-" });
    expect(parseCommandLine(["send", PEER, "a", "-", "b"], {}).command).toMatchObject({ text: "a - b" });
    expect(failure(() => parseCommandLine(["send", PEER], {})).message).toContain("send: missing TEXT");
  });

  it("parses whoami, which takes no argument", () => {
    expect(parseCommandLine(["whoami", "--json"], {}).command).toEqual({ name: "whoami" });
    const error = failure(() => parseCommandLine(["whoami", PEER], {}));
    expect(error.kind).toBe("USAGE");
    expect(error.message).toContain("whoami: unexpected argument");
  });

  it("defaults the API URL to the local node, and lets XMTP_API_URL and then --api-url override it", () => {
    expect(parseCommandLine(["list"], {}).options.apiUrl).toBe(DEFAULT_API_URL);
    expect(parseCommandLine(["list"], { XMTP_API_URL: "http://127.0.0.1:7000" }).options.apiUrl).toBe(
      "http://127.0.0.1:7000",
    );
    expect(
      parseCommandLine(["list", "--api-url", "https://node.example"], { XMTP_API_URL: "http://127.0.0.1:7000" })
        .options.apiUrl,
    ).toBe("https://node.example");
  });

  it("reads --limit for read and defaults it", () => {
    expect(parseCommandLine(["read", PEER, "--limit", "5"], {}).command).toEqual({
      name: "read",
      peerAddress: PEER,
      limit: 5,
    });
    expect(parseCommandLine(["read", PEER], {}).command).toMatchObject({ limit: 20 });
  });

  it.each([
    [["frobnicate"], "unknown command"],
    [["send", PEER], "missing TEXT"],
    [["send"], "missing ADDRESS TEXT"],
    [["read", PEER, "--limit", "0"], "--limit must be"],
    [["read", PEER, "--limit", "ten"], "--limit must be"],
    [["list", "--limit", "3"], '--limit only applies to "xmtp read"'],
    [["list", "--force"], '--force only applies to "xmtp init"'],
    [["list", "--colour"], "Unknown option '--colour'"],
    [["list", "--api-url", "not a url"], "is not a URL"],
    [["list", "--api-url", "localhost:5555"], "http:// or https://"],
    [["list", "--api-url", "ftp://127.0.0.1"], "http:// or https://"],
    [["list", "--key-file", ""], "--key-file must not be empty"],
    [["send", PEER, "hi", "--max-price", "1e6"], "--max-price must be a whole number of wei"],
    [["send", PEER, "hi", "--rpc", "http://x"], '--rpc only applies to "xmtp postage"'],
    [["list", "--max-price", "5"], '--max-price only applies to "xmtp send"'],
    [["postage"], "postage: missing quote|balance|deposit|withdraw"],
    [["postage", "refund"], 'postage: unknown action "refund"'],
    [["postage", "deposit"], "missing WEI (or --eth AMOUNT)"],
    [["postage", "deposit", "0"], "WEI must be more than 0 wei"],
    [["postage", "deposit", "0.5"], "WEI must be a whole number of wei"],
    [["postage", "deposit", "100", "--eth", "1"], "either in wei (WEI) or in ether (--eth AMOUNT), not both"],
    [["postage", "deposit", "--eth", "0.0000000000000000001"], "--eth must be an amount of ether"],
    [["postage", "balance", "--eth", "1"], '--eth only applies to "xmtp postage deposit"'],
    [["postage", "balance", "--rpc", "ws://127.0.0.1:8546"], "--rpc must be an http:// or https:// URL"],
    [["postage", "quote", "extra"], 'unexpected argument "extra"'],
    [["grant"], "missing ADDRESS"],
    [["grant", PEER, "--days", "0"], "--days must be a whole number from 1 to 3650"],
    [["send", PEER, "hi", "--send"], '--send only applies to "xmtp grant"'],
    [["accept-grant"], "missing GRANT"],
  ])("rejects %j with a usage error saying %s", (argv, expected) => {
    const error = failure(() => parseCommandLine(argv, {}));
    expect(error.kind).toBe("USAGE");
    expect(error.exitCode).toBe(ExitCode.USAGE);
    expect(error.message).toContain(expected);
  });

  it("parses the postage commands, taking the RPC from --rpc, else XMTP_PAYER_RPC", () => {
    const rpc = { XMTP_PAYER_RPC: "http://127.0.0.1:8545" };
    expect(parseCommandLine(["postage", "quote"], {}).command).toEqual({ name: "postage", action: "quote" });
    expect(parseCommandLine(["postage", "balance"], rpc).command).toEqual({ name: "postage", action: "balance", rpcUrl: rpc.XMTP_PAYER_RPC });
    expect(parseCommandLine(["postage", "withdraw", "--rpc", "https://rpc.example"], rpc).command).toEqual({
      name: "postage",
      action: "withdraw",
      rpcUrl: "https://rpc.example",
    });
    expect(parseCommandLine(["postage", "deposit", "1000000"], {}).command).toEqual({ name: "postage", action: "deposit", amountWei: 1_000_000n });
    expect(parseCommandLine(["postage", "deposit", "--eth", "0.01"], {}).command).toMatchObject({ amountWei: 10_000_000_000_000_000n });
  });

  it("reads --max-price for send, defaulting to XMTP_PAYER_MAX_PRICE, and none without either", () => {
    expect(parseCommandLine(["send", PEER, "hi"], {}).command).toEqual({ name: "send", peerAddress: PEER, text: "hi" });
    expect(parseCommandLine(["send", PEER, "hi"], { XMTP_PAYER_MAX_PRICE: "7" }).command).toMatchObject({ maxPriceWei: 7n });
    expect(parseCommandLine(["send", PEER, "hi", "--max-price", "9"], { XMTP_PAYER_MAX_PRICE: "7" }).command).toMatchObject({ maxPriceWei: 9n });
    expect(failure(() => parseCommandLine(["send", PEER, "hi"], { XMTP_PAYER_MAX_PRICE: "lots" })).message).toContain("XMTP_PAYER_MAX_PRICE must be");
  });

  it("parses grant with its default of 30 days, --days and --send, and accept-grant", () => {
    expect(parseCommandLine(["grant", PEER.toLowerCase()], {}).command).toEqual({ name: "grant", peerAddress: PEER, days: 30, send: false });
    expect(parseCommandLine(["grant", PEER, "--days", "7", "--send"], {}).command).toEqual({ name: "grant", peerAddress: PEER, days: 7, send: true });
    expect(parseCommandLine(["accept-grant", "CgQ="], {}).command).toEqual({ name: "accept-grant", grant: "CgQ=" });
  });

  it("reads ether amounts exactly, without floating point", () => {
    expect(parseEther("1", "x")).toBe(10n ** 18n);
    expect(parseEther("0.000000000000000001", "x")).toBe(1n);
    expect(parseEther("2.5", "x")).toBe(25n * 10n ** 17n);
  });

  it("gives an invalid address its own error, not a usage error", () => {
    for (const bad of ["alice", "0x1234", "alice..eth", "al ice.eth"]) {
      expect(failure(() => parseCommandLine(["can-message", bad], {})).exitCode, bad).toBe(ExitCode.INVALID_ADDRESS);
    }
  });

  it("takes names where a peer is typed, normalized, and the names RPC from --eth-rpc-url or XMTP_ETH_RPC_URL", () => {
    expect(parseCommandLine(["send", "Alice.ETH", "hi"], {}).command).toMatchObject({ name: "send", peerAddress: "alice.eth" });
    expect(parseCommandLine(["read", "bob.eth"], {}).command).toMatchObject({ name: "read", peerAddress: "bob.eth" });
    expect(parseCommandLine(["can-message", "bob.eth"], {}).command).toEqual({ name: "can-message", peerAddress: "bob.eth" });
    expect(parseCommandLine(["list"], {}).options.ethRpcUrl).toBeUndefined();
    expect(parseCommandLine(["list"], { XMTP_ETH_RPC_URL: "" }).options.ethRpcUrl).toBeUndefined();
    expect(parseCommandLine(["list"], { XMTP_ETH_RPC_URL: "http://a:8545" }).options.ethRpcUrl).toBe("http://a:8545");
    expect(parseCommandLine(["list", "--eth-rpc-url", "https://b"], { XMTP_ETH_RPC_URL: "http://a:8545" }).options.ethRpcUrl).toBe("https://b");
    const bad = failure(() => parseCommandLine(["list", "--eth-rpc-url", "ftp://x"], {}));
    expect(bad.exitCode).toBe(ExitCode.USAGE);
    expect(bad.message).toContain("--eth-rpc-url");
  });

  it("treats no command, --help and help as a request for help", () => {
    expect(parseCommandLine([], {}).command).toEqual({ name: "help", topic: undefined });
    expect(parseCommandLine(["send", "--help"], {}).command).toEqual({ name: "help", topic: "send" });
    expect(parseCommandLine(["help", "read"], {}).command).toEqual({ name: "help", topic: "read" });
  });

  it("takes the key file from XMTP_KEY_FILE unless --key-file is given", () => {
    expect(parseCommandLine(["list"], { XMTP_KEY_FILE: "/a" }).options.keyFile).toBe("/a");
    expect(parseCommandLine(["list", "--key-file", "/b"], { XMTP_KEY_FILE: "/a" }).options.keyFile).toBe("/b");
  });

  it("parses export, import and read --archive", () => {
    expect(parseCommandLine(["export", "inbox.bin"], {}).command).toEqual({ name: "export", file: "inbox.bin" });
    expect(parseCommandLine(["import", "inbox.bin", "--api-url", "http://n2:5555"], {})).toMatchObject({
      command: { name: "import", file: "inbox.bin" },
      options: { apiUrl: "http://n2:5555" },
    });
    expect(parseCommandLine(["read", "--archive", "inbox.bin"], {}).command).toEqual({ name: "read-archive", file: "inbox.bin" });
    expect(parseCommandLine(["read", "--archive", "inbox.bin", PEER.toLowerCase(), "--limit", "5"], {}).command).toEqual({
      name: "read-archive",
      file: "inbox.bin",
      peerAddress: PEER,
      limit: 5,
    });
    expect(failure(() => parseCommandLine(["export"], {})).exitCode).toBe(ExitCode.USAGE);
    expect(failure(() => parseCommandLine(["list", "--archive", "x"], {})).message).toContain('only applies to "xmtp read"');
    expect(failure(() => parseCommandLine(["read", "--archive", "x", "nope"], {})).exitCode).toBe(ExitCode.INVALID_ADDRESS);
  });
});
