// `xmtp-node postage deploy|redeem` (docs/postage.md §6).
//   deploy --rpc URL [--withdrawal-delay-seconds N]: deploys a PostageVault with the key in XMTP_POSTAGE_DEPLOYER_KEY
//     and prints the vault's address as the last line.
//   redeem [the node's flags]: opens the node's store (as the node would, from the same flags and environment) and
//     redeems every voucher accepted and not yet redeemed, now.
import { Wallet } from "ethers";
import { createChainProvider, deployVault, PostageVaultClient } from "@xmtp-ts/postage";
import { ConfigError, parseCommandLine } from "../config.js";
import { silentLogger } from "../log.js";
import type { PostageLedger } from "../store/postageLedger.js";
import { VoucherRedeemer } from "./voucherRedeemer.js";

export const DEPLOYER_KEY_ENV = "XMTP_POSTAGE_DEPLOYER_KEY";
/** A week: long enough for an operator that redeems daily to never lose what it is owed. */
const DEFAULT_WITHDRAWAL_DELAY_SECONDS = 604_800n;

export const POSTAGE_COMMAND_USAGE = `Usage:
  xmtp-node postage deploy --rpc URL [--withdrawal-delay-seconds N]
      Deploys a PostageVault; the deployer's key comes from ${DEPLOYER_KEY_ENV}. Prints the vault address last.
      Withdrawal delay default: ${DEFAULT_WITHDRAWAL_DELAY_SECONDS} s (a week).
  xmtp-node postage redeem [--data-dir DIR | --db URL] --postage required --postage-rpc URL --postage-vault ADDRESS
      Redeems every accepted voucher now (operator key in XMTP_POSTAGE_OPERATOR_KEY), with the node's flags.
`;

export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export async function runPostageCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: CommandIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === "deploy") return await deploy(rest, env, io);
    if (command === "redeem") return await redeem(rest, env, io);
    if (command === "--help" || command === "-h" || command === undefined) {
      (command === undefined ? io.stderr : io.stdout)(POSTAGE_COMMAND_USAGE);
      return command === undefined ? 2 : 0;
    }
    io.stderr(`xmtp-node postage: unknown command ${JSON.stringify(command)}\n\n${POSTAGE_COMMAND_USAGE}`);
    return 2;
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`xmtp-node postage ${command}: ${error.message}\n\n${POSTAGE_COMMAND_USAGE}`);
      return 2;
    }
    io.stderr(`xmtp-node postage ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function deploy(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: CommandIo): Promise<number> {
  const flags = parseFlags(argv, ["rpc", "withdrawal-delay-seconds"]);
  const rpc = flags.get("rpc");
  if (!rpc) throw new ConfigError("--rpc URL is required");
  const delayText = flags.get("withdrawal-delay-seconds") ?? String(DEFAULT_WITHDRAWAL_DELAY_SECONDS);
  if (!/^\d+$/.test(delayText)) throw new ConfigError(`--withdrawal-delay-seconds must be a whole number of seconds, got ${JSON.stringify(delayText)}`);
  const key = env[DEPLOYER_KEY_ENV]?.trim();
  if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key)) throw new ConfigError(`${DEPLOYER_KEY_ENV} must hold the deployer's private key (0x and 64 hex digits)`);
  const provider = createChainProvider(rpc, { pollingIntervalMs: 250 });
  try {
    const deployer = new Wallet(key, provider);
    const { chainId } = await provider.getNetwork();
    io.stdout(`deploying PostageVault on chain ${chainId} from ${deployer.address} (withdrawal delay ${delayText} s)\n`);
    const address = await deployVault(deployer, BigInt(delayText));
    io.stdout(`${address}\n`);
    return 0;
  } finally {
    provider.destroy();
  }
}

async function redeem(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: CommandIo): Promise<number> {
  const parsed = parseCommandLine(argv, env);
  if (parsed.help) {
    io.stdout(POSTAGE_COMMAND_USAGE);
    return 0;
  }
  const { config } = parsed;
  if (config.postage.mode !== "required") throw new ConfigError("redeem needs the node's postage flags (--postage required, --postage-rpc, --postage-vault)");
  const { openConfiguredStore } = await import("../server.js");
  const store = await openConfiguredStore(config);
  const provider = createChainProvider(config.postage.rpcUrl, { pollingIntervalMs: 250 });
  try {
    const ledger = (store as { postage?: PostageLedger }).postage;
    if (!ledger) throw new Error("this store keeps no postage ledger");
    const operator = new Wallet(config.postage.operatorKey, provider);
    const redeemer = new VoucherRedeemer({
      ledger,
      vault: new PostageVaultClient(config.postage.vault, operator),
      operator: operator.address,
      logger: silentLogger,
    });
    const result = await redeemer.redeem();
    for (const refused of result.refused) io.stderr(`voucher of ${refused.payer} refused by the vault: ${refused.reason}\n`);
    io.stdout(
      result.vouchers === 0
        ? `nothing to redeem for operator ${operator.address}\n`
        : `redeemed ${result.vouchers} voucher(s), ${result.wei} wei to ${operator.address} (transactions ${result.transactions.join(", ")})\n`,
    );
    return result.refused.length > 0 ? 1 : 0;
  } finally {
    provider.destroy();
    await store.close();
  }
}

function parseFlags(argv: readonly string[], known: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!known.includes(name)) throw new ConfigError(`unknown option --${name}`);
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`option --${name} needs a value`);
    flags.set(name, value);
  }
  return flags;
}
