// PostageVault's custom errors as typed JavaScript errors. ethers reports a revert as a generic CALL_EXCEPTION with
// the raw revert data somewhere in its error; callers (the node's redeemer, the deploy command, tests) want to branch
// on which rule the contract applied, so the data is decoded against the vault's ABI here.

import { Interface, type ErrorDescription } from "ethers";
import { POSTAGE_VAULT_ABI } from "./vaultArtifact.js";

type AbiEntry = (typeof POSTAGE_VAULT_ABI)[number];

/** The names of the vault's custom errors, taken from the compiled ABI so they cannot drift from the contract. */
export type VaultErrorName = Extract<AbiEntry, { type: "error" }>["name"];

const vaultInterface = new Interface(POSTAGE_VAULT_ABI);

/**
 * The vault refused a call. `errorName` and `args` are the contract's custom error; when redeemMany refused a batch
 * they are those of the offending voucher, whose position is `voucherIndex` (0 for a single redeem).
 */
export class VaultRevertError extends Error {
  constructor(
    readonly errorName: VaultErrorName,
    readonly args: Readonly<Record<string, unknown>>,
    readonly revertData: string,
    readonly voucherIndex?: number,
  ) {
    const argText = Object.entries(args)
      .map(([name, value]) => `${name}=${String(value)}`)
      .join(", ");
    const where = voucherIndex === undefined ? "" : ` (voucher ${voucherIndex})`;
    super(`PostageVault refused the call: ${errorName}(${argText})${where}`);
    this.name = "VaultRevertError";
  }
}

/** A revert whose data is not one of the vault's errors (a panic, an empty revert, another contract). */
export class UnknownVaultRevertError extends Error {
  constructor(
    readonly revertData: string | undefined,
    override readonly cause: unknown,
  ) {
    super(`PostageVault call reverted without a known error (data ${revertData ?? "none"})`);
    this.name = "UnknownVaultRevertError";
  }
}

function namedArgs(description: ErrorDescription): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  description.fragment.inputs.forEach((input, i) => {
    out[input.name || String(i)] = description.args[i];
  });
  return out;
}

function decode(data: string): ErrorDescription | null {
  try {
    return vaultInterface.parseError(data);
  } catch {
    return null;
  }
}

/** Decodes revert data of the vault; VoucherRejected is unwrapped to the voucher's own error. */
export function decodeVaultRevert(data: string, singleVoucher = false): VaultRevertError | null {
  const outer = decode(data);
  if (!outer) return null;
  if (outer.name === "VoucherRejected") {
    const [index, reason] = outer.args as unknown as [bigint, string];
    const inner = decode(reason);
    if (!inner) return new VaultRevertError("VoucherRejected", namedArgs(outer), data, Number(index));
    return new VaultRevertError(inner.name as VaultErrorName, namedArgs(inner), data, Number(index));
  }
  return new VaultRevertError(outer.name as VaultErrorName, namedArgs(outer), data, singleVoucher ? 0 : undefined);
}

/** Finds the revert data in an error thrown by ethers, wherever the provider put it. */
export function findRevertData(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const item = queue.shift();
    if (item === null || typeof item !== "object" || seen.has(item)) continue;
    seen.add(item);
    const record = item as Record<string, unknown>;
    if (typeof record.data === "string" && /^0x[0-9a-fA-F]{8,}$/.test(record.data)) return record.data;
    queue.push(record.error, record.info, record.cause, record.data);
  }
  return undefined;
}

/** Whether an ethers error is a revert (as opposed to a network or signing failure). */
function isCallException(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "CALL_EXCEPTION";
}

/** The typed form of an error thrown by a vault call: reverts become VaultRevertError, anything else is kept. */
export function toVaultError(err: unknown, singleVoucher = false): unknown {
  const data = findRevertData(err);
  if (data) {
    const decoded = decodeVaultRevert(data, singleVoucher);
    if (decoded) return decoded;
  }
  if (isCallException(err)) return new UnknownVaultRevertError(data, err);
  return err;
}
