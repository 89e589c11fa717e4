// Postage's command-line flags and environment variables (docs/postage.md §6). config.ts owns parsing in general;
// this module only describes these flags and turns their raw values into a PostageConfig. The operator's key is
// read from the environment only: a flag's value shows in `ps` and in shell histories.
import { isAddress, toChecksumAddress } from "@xmtp-ts/crypto";

export const POSTAGE_FLAG_ENV = {
  postage: "XMTP_POSTAGE",
  "postage-rpc": "XMTP_POSTAGE_RPC",
  "postage-vault": "XMTP_POSTAGE_VAULT",
  "postage-price": "XMTP_POSTAGE_PRICE",
  "postage-price-per-byte": "XMTP_POSTAGE_PRICE_PER_BYTE",
  "postage-redeem-interval-ms": "XMTP_POSTAGE_REDEEM_INTERVAL_MS",
  "postage-chain-cache-ms": "XMTP_POSTAGE_CHAIN_CACHE_MS",
} as const;

export type PostageFlagName = keyof typeof POSTAGE_FLAG_ENV;

/** The environment variable holding the operator's private key (its address is paid). */
export const OPERATOR_KEY_ENV = "XMTP_POSTAGE_OPERATOR_KEY";

export const POSTAGE_DEFAULTS = {
  // 10^12 wei = 0.000001 ETH per first message: negligible for a person, a cost at spam volume.
  priceWei: 1_000_000_000_000n,
  pricePerByteWei: 0n,
  // Vouchers are redeemed hourly: one transaction settles every message of a payer since the last one.
  redeemIntervalMs: 3_600_000,
  // Balances are re-read at most every 5 s; withdrawals wait far longer than that (the vault's delay).
  chainCacheMs: 5_000,
} as const;

export type PostageConfig =
  | { mode: "off" }
  | {
      mode: "required";
      rpcUrl: string;
      vault: string;
      priceWei: bigint;
      pricePerByteWei: bigint;
      redeemIntervalMs: number;
      chainCacheMs: number;
      /** 0x-prefixed 32-byte hex, from XMTP_POSTAGE_OPERATOR_KEY. Never logged. */
      operatorKey: string;
    };

export const POSTAGE_USAGE = `
Postage (docs/postage.md: first messages to strangers free with a relationship, paid otherwise):
  --postage MODE         off | required                          (XMTP_POSTAGE, default off)
  --postage-rpc URL      Ethereum JSON-RPC of the vault's chain  (XMTP_POSTAGE_RPC)
  --postage-vault ADDRESS  the PostageVault contract             (XMTP_POSTAGE_VAULT)
  --postage-price WEI    price of a paid envelope                (XMTP_POSTAGE_PRICE, default ${POSTAGE_DEFAULTS.priceWei})
  --postage-price-per-byte WEI  added per message byte           (XMTP_POSTAGE_PRICE_PER_BYTE, default ${POSTAGE_DEFAULTS.pricePerByteWei})
  --postage-redeem-interval-ms N  how often vouchers are redeemed (XMTP_POSTAGE_REDEEM_INTERVAL_MS, default ${POSTAGE_DEFAULTS.redeemIntervalMs})
  --postage-chain-cache-ms N  how long a payer's balance is cached (XMTP_POSTAGE_CHAIN_CACHE_MS, default ${POSTAGE_DEFAULTS.chainCacheMs})
  The operator's key comes from ${OPERATOR_KEY_ENV} only (its address is paid).
`;

export interface RawFlag {
  value: string;
  source: string;
}

const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/;
const MAX_WEI = (1n << 128n) - 1n;

/** Builds the postage configuration; throws `makeError(message)` naming the offending flag or variable. */
export function parsePostageFlags(
  lookup: (name: PostageFlagName) => RawFlag | undefined,
  env: Readonly<Record<string, string | undefined>>,
  makeError: (message: string) => Error,
): PostageConfig {
  const modeFlag = lookup("postage");
  const mode = modeFlag?.value.trim().toLowerCase() ?? "off";
  if (mode !== "off" && mode !== "required") {
    throw makeError(`${modeFlag!.source} must be "off" or "required", got ${JSON.stringify(modeFlag!.value)}`);
  }
  if (mode === "off") return { mode: "off" };
  const needed = (name: PostageFlagName, what: string) => {
    const found = lookup(name);
    if (!found || found.value.trim() === "") throw makeError(`--postage required needs --${name} (${POSTAGE_FLAG_ENV[name]}): ${what}`);
    return found;
  };
  const wei = (name: PostageFlagName, fallback: bigint) => {
    const found = lookup(name);
    if (!found) return fallback;
    if (!/^\d+$/.test(found.value.trim()) || BigInt(found.value.trim()) > MAX_WEI) {
      throw makeError(`${found.source} must be a whole number of wei below 2^128, got ${JSON.stringify(found.value)}`);
    }
    return BigInt(found.value.trim());
  };
  const millis = (name: PostageFlagName, fallback: number, min: number) => {
    const found = lookup(name);
    if (!found) return fallback;
    const value = Number(found.value.trim());
    if (!/^\d+$/.test(found.value.trim()) || value < min || value > 86_400_000) {
      throw makeError(`${found.source} must be an integer from ${min} to 86400000, got ${JSON.stringify(found.value)}`);
    }
    return value;
  };

  const rpc = needed("postage-rpc", "the JSON-RPC URL of the chain the vault is on");
  if (!/^(https?|wss?):\/\//i.test(rpc.value.trim())) throw makeError(`${rpc.source} must be an http(s):// or ws(s):// URL`);
  const vault = needed("postage-vault", 'the vault address ("xmtp-node postage deploy" prints one)');
  if (!isAddress(vault.value.trim())) throw makeError(`${vault.source} is not an Ethereum address: ${JSON.stringify(vault.value)}`);
  const operatorKey = env[OPERATOR_KEY_ENV]?.trim();
  if (!operatorKey) throw makeError(`--postage required needs the operator's private key in ${OPERATOR_KEY_ENV}`);
  if (!PRIVATE_KEY.test(operatorKey)) throw makeError(`${OPERATOR_KEY_ENV} must be 0x followed by 64 hex digits`);
  const priceWei = wei("postage-price", POSTAGE_DEFAULTS.priceWei);
  const pricePerByteWei = wei("postage-price-per-byte", POSTAGE_DEFAULTS.pricePerByteWei);
  if (priceWei === 0n && pricePerByteWei === 0n) throw makeError("--postage-price and --postage-price-per-byte cannot both be 0");
  return {
    mode: "required",
    rpcUrl: rpc.value.trim(),
    vault: toChecksumAddress(vault.value.trim()),
    priceWei,
    pricePerByteWei,
    redeemIntervalMs: millis("postage-redeem-interval-ms", POSTAGE_DEFAULTS.redeemIntervalMs, 1_000),
    chainCacheMs: millis("postage-chain-cache-ms", POSTAGE_DEFAULTS.chainCacheMs, 0),
    operatorKey,
  };
}
