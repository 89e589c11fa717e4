// The two ways to get a wallet in the chat app: the browser's own wallet (EIP-1193) or a throwaway development
// wallet whose key lives in this browser's localStorage.
import {
  fromHex,
  generatePrivateKey,
  privateKeySigner,
  toChecksumAddress,
  toHex,
  isAddress,
  utf8ToBytes,
  type PersonalSigner,
} from "@xmtp-ts/crypto";

/** What the XMTP client asks of a wallet: its address and EIP-191 personal_sign. */
export type WalletSigner = PersonalSigner;

export interface ConnectedWallet {
  kind: "browser" | "development";
  address: string;
  signer: WalletSigner;
}

const DEV_WALLET_KEY = "xmtp-chat:development-wallet-key";

function privateKeyWallet(privateKey: Uint8Array): ConnectedWallet {
  const signer = privateKeySigner(privateKey);
  return { kind: "development", address: signer.address, signer };
}

/** The development wallet saved in this browser, if any (a corrupt entry counts as none). */
export function savedDevelopmentWallet(storage: Storage): ConnectedWallet | undefined {
  const hex = storage.getItem(DEV_WALLET_KEY);
  if (!hex || !/^0x[0-9a-f]{64}$/.test(hex)) return undefined;
  try {
    return privateKeyWallet(fromHex(hex));
  } catch {
    return undefined;
  }
}

/** The saved development wallet, or a new random one saved for next time. */
export function developmentWallet(storage: Storage): ConnectedWallet {
  const saved = savedDevelopmentWallet(storage);
  if (saved) return saved;
  const privateKey = generatePrivateKey();
  storage.setItem(DEV_WALLET_KEY, "0x" + toHex(privateKey));
  return privateKeyWallet(privateKey);
}

export function forgetDevelopmentWallet(storage: Storage): void {
  storage.removeItem(DEV_WALLET_KEY);
}

/** The subset of EIP-1193 the app uses. */
export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
  on?(event: "accountsChanged", listener: (accounts: string[]) => void): void;
  removeListener?(event: "accountsChanged", listener: (accounts: string[]) => void): void;
}

export class WalletError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WalletError";
  }
}

function explainProviderError(err: unknown, action: string): WalletError {
  const code = (err as { code?: unknown })?.code;
  if (code === 4001) return new WalletError(`You declined to ${action} in your wallet.`, { cause: err });
  if (code === -32002) return new WalletError(`Your wallet already has a pending request: open it to ${action}.`, { cause: err });
  const message = (err as { message?: unknown })?.message;
  return new WalletError(`Your wallet could not ${action}: ${typeof message === "string" ? message : String(err)}`, { cause: err });
}

/** Asks the browser wallet for an account and signs with personal_sign (which takes the message as 0x-hex bytes). */
export async function connectBrowserWallet(provider: Eip1193Provider): Promise<ConnectedWallet> {
  let accounts: unknown;
  try {
    accounts = await provider.request({ method: "eth_requestAccounts" });
  } catch (err) {
    throw explainProviderError(err, "share an account");
  }
  const first = Array.isArray(accounts) ? accounts[0] : undefined;
  if (typeof first !== "string" || !isAddress(first)) {
    throw new WalletError("Your wallet did not share an Ethereum account.");
  }
  return browserWallet(provider, toChecksumAddress(first));
}

/**
 * The account the browser wallet already shares with this page (eth_accounts: it asks the user nothing), if it is
 * `address`; undefined when the wallet is locked, switched accounts, or cannot tell.
 */
export async function sharedBrowserWallet(provider: Eip1193Provider, address: string): Promise<ConnectedWallet | undefined> {
  let accounts: unknown;
  try {
    accounts = await provider.request({ method: "eth_accounts" });
  } catch {
    return undefined;
  }
  const shared = Array.isArray(accounts) ? accounts.filter((a): a is string => typeof a === "string" && isAddress(a)) : [];
  return shared.some((a) => toChecksumAddress(a) === address) ? browserWallet(provider, address) : undefined;
}

/** The browser wallet's `address`, signing with personal_sign (which takes the message as 0x-hex bytes). */
function browserWallet(provider: Eip1193Provider, address: string): ConnectedWallet {
  return {
    kind: "browser",
    address,
    signer: {
      async getAddress() {
        return address;
      },
      async signMessage(message) {
        const bytes = typeof message === "string" ? utf8ToBytes(message) : message;
        let signature: unknown;
        try {
          signature = await provider.request({ method: "personal_sign", params: ["0x" + toHex(bytes), address] });
        } catch (err) {
          throw explainProviderError(err, "sign the XMTP message");
        }
        if (typeof signature !== "string" || !/^0x[0-9a-fA-F]{130}$/.test(signature)) {
          throw new WalletError("Your wallet returned a signature that is not 65 bytes of hex.");
        }
        return signature;
      },
    },
  };
}
