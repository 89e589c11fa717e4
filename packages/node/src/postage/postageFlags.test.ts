// Postage flags through the node's command-line parser: defaults, what "required" needs, and precise refusals.
import { describe, expect, it } from "vitest";
import { ConfigError, parseCommandLine, type NodeConfig } from "../config.js";

const KEY = "0x" + "11".repeat(32);
const VAULT = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const config = (argv: string[], env: Record<string, string> = {}) => (parseCommandLine(argv, env) as { config: NodeConfig }).config;
const refusal = (argv: string[], env: Record<string, string> = {}) => {
  try {
    parseCommandLine(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
};
const required = ["--postage", "required", "--postage-rpc", "http://127.0.0.1:8545", "--postage-vault", VAULT];

describe("postage flags", () => {
  it("default to off", () => {
    expect(config([]).postage).toEqual({ mode: "off" });
  });

  it("with 'required', take the chain, the vault (EIP-55), prices and the operator key from the environment only", () => {
    expect(config([...required, "--postage-price", "5", "--postage-price-per-byte", "2"], { XMTP_POSTAGE_OPERATOR_KEY: KEY }).postage).toEqual({
      mode: "required",
      rpcUrl: "http://127.0.0.1:8545",
      vault: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      priceWei: 5n,
      pricePerByteWei: 2n,
      redeemIntervalMs: 3_600_000,
      chainCacheMs: 5_000,
      operatorKey: KEY,
    });
    expect(config([], { XMTP_POSTAGE: "required", XMTP_POSTAGE_RPC: "http://h:1", XMTP_POSTAGE_VAULT: VAULT, XMTP_POSTAGE_OPERATOR_KEY: KEY }).postage.mode).toBe(
      "required",
    );
  });

  it("refuse what cannot work, naming the flag", () => {
    expect(refusal(["--postage", "maybe"])).toMatch(/--postage must be "off" or "required"/);
    expect(refusal(["--postage", "required"], { XMTP_POSTAGE_OPERATOR_KEY: KEY })).toMatch(/needs --postage-rpc/);
    expect(refusal(required)).toMatch(/operator's private key in XMTP_POSTAGE_OPERATOR_KEY/);
    expect(refusal(required, { XMTP_POSTAGE_OPERATOR_KEY: "0x12" })).toMatch(/64 hex digits/);
    expect(refusal([...required.slice(0, 4), "--postage-vault", "0x123"], { XMTP_POSTAGE_OPERATOR_KEY: KEY })).toMatch(/not an Ethereum address/);
    expect(refusal([...required, "--postage-price", "-1"], { XMTP_POSTAGE_OPERATOR_KEY: KEY })).toMatch(/--postage-price must be a whole number of wei/);
    expect(refusal([...required, "--postage-price", "0"], { XMTP_POSTAGE_OPERATOR_KEY: KEY })).toMatch(/cannot both be 0/);
    expect(refusal(["--postage-operator-key", KEY])).toMatch(/unknown option --postage-operator-key/);
  });
});
