// The wallets an app can hand to Client.create, reduced to what XMTP needs: an address and personal_sign.
import { XmtpClientError } from "./errors/XmtpClientError.js";
import { fromHex, isAddress, recoverWalletAddress, toChecksumAddress, walletSignatureToCompact } from "@xmtp-ts/crypto";

/** ethers v6 Signer/Wallet, or any object with these two methods. */
export interface Signer {
  getAddress(): Promise<string> | string;
  signMessage(message: string): Promise<string | Uint8Array> | string | Uint8Array;
}

/** viem WalletClient (an `account` or `getAddresses()`, `signMessage({ message, account })`). */
export interface ViemWalletClientLike {
  account?: { address: string } | string;
  getAddresses?: () => Promise<readonly string[]>;
  signMessage(args: { message: string; account: unknown }): Promise<string>;
}

/** viem LocalAccount (`privateKeyToAccount`, `mnemonicToAccount`…). */
export interface ViemLocalAccountLike {
  address: string;
  type?: string;
  signMessage(args: { message: string }): Promise<string>;
}

export type AnySigner = Signer | ViemWalletClientLike | ViemLocalAccountLike;

/** What the client uses: a checksummed address and a signature that is checked to come from it. */
export interface WalletSigner {
  address: string;
  /** EIP-191 personal_sign of `text`, as 65 bytes r‖s‖v. */
  signText(text: string): Promise<Uint8Array>;
}

export class SignerError extends XmtpClientError {
  readonly code = "invalid_signer";
  constructor(message: string) {
    super(message);
    this.name = "SignerError";
  }
}

function signatureBytes(signature: unknown): Uint8Array {
  let bytes: Uint8Array;
  if (signature instanceof Uint8Array) bytes = signature;
  else if (typeof signature === "string") {
    try {
      bytes = fromHex(signature);
    } catch {
      throw new SignerError(`the wallet returned a signature that is not hex: ${signature.slice(0, 20)}…`);
    }
  } else throw new SignerError(`the wallet returned a ${typeof signature} instead of a signature`);
  if (bytes.length !== 65) throw new SignerError(`the wallet returned a ${bytes.length}-byte signature; expected 65 (r‖s‖v)`);
  return bytes;
}

function checkedAddress(address: unknown, source: string): string {
  if (typeof address !== "string" || !isAddress(address)) {
    throw new SignerError(`${source} did not give an Ethereum address: ${String(address)}`);
  }
  return toChecksumAddress(address);
}

async function resolve(signer: AnySigner): Promise<{ address: string; sign: (text: string) => Promise<unknown> }> {
  if (!signer || typeof signer !== "object") throw new SignerError("a signer object is required");
  const s = signer as unknown as Record<string, unknown>;
  if (typeof s.signMessage !== "function") throw new SignerError("the signer has no signMessage method");
  if (typeof s.getAddress === "function") {
    const ethersLike = signer as Signer;
    return { address: checkedAddress(await ethersLike.getAddress(), "signer.getAddress()"), sign: async (text) => ethersLike.signMessage(text) };
  }
  // viem: signMessage takes an object. A WalletClient carries `account` (or lists addresses); a LocalAccount is one.
  if ("account" in s || typeof s.getAddresses === "function") {
    const client = signer as ViemWalletClientLike;
    const account = client.account ?? (await client.getAddresses?.())?.[0];
    if (!account) throw new SignerError("the viem WalletClient has no account");
    const address = checkedAddress(typeof account === "string" ? account : account.address, "the viem WalletClient");
    return { address, sign: async (text) => client.signMessage({ message: text, account }) };
  }
  if (typeof s.address === "string") {
    const local = signer as ViemLocalAccountLike;
    return { address: checkedAddress(local.address, "the viem account"), sign: async (text) => local.signMessage({ message: text }) };
  }
  throw new SignerError("unsupported signer: expected an ethers Signer, a viem WalletClient or LocalAccount, or { getAddress, signMessage }");
}

/**
 * Adapts any supported signer. Every signature is checked to recover to the signer's address: a wrong one would
 * otherwise surface later as undecryptable keys.
 */
export async function toWalletSigner(signer: AnySigner): Promise<WalletSigner> {
  const { address, sign } = await resolve(signer);
  return {
    address,
    async signText(text) {
      const bytes = signatureBytes(await sign(text));
      let signedBy: string;
      try {
        signedBy = recoverWalletAddress(text, walletSignatureToCompact(bytes));
      } catch (err) {
        throw new SignerError(`the wallet returned an invalid signature: ${(err as Error).message}`);
      }
      if (signedBy !== address) throw new SignerError(`the wallet signed as ${signedBy}, not as ${address}`);
      return bytes;
    },
  };
}
