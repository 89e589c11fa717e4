// Where the CLI's wallet key comes from, and how it is kept on disk: a JSON file readable by its owner only.
import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fromHex, generatePrivateKey, getPublicKey, publicKeyToAddress, toHex } from "@xmtp-ts/crypto";
import { CliError } from "./errors.js";
import { writePrivateFile } from "./privateFile.js";

export const KEY_FILE_TYPE = "xmtp-ts/wallet-key";

export interface WalletIdentity {
  address: string;
  privateKey: Uint8Array;
}

export interface KeyFileContents {
  type: typeof KEY_FILE_TYPE;
  version: 1;
  address: string;
  privateKey: string;
}

export type IdentitySource = "key-file" | "environment" | "generated";

export function defaultKeyFile(env: Record<string, string | undefined>): string {
  return join(env.XMTP_HOME || join(homedir(), ".xmtp"), "identity.json");
}

/** The wallet behind a 32-byte secp256k1 private key given as hex (with or without 0x). */
export function identityFromPrivateKey(hex: string, origin: string): WalletIdentity {
  const trimmed = hex.trim();
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(trimmed)) {
    throw new CliError("IDENTITY", `${origin} is not a private key: expected 0x followed by 64 hex digits`);
  }
  const privateKey = fromHex(trimmed);
  let publicKey: Uint8Array;
  try {
    publicKey = getPublicKey(privateKey);
  } catch {
    // Zero or >= the curve order: well-formed hex that is still no key.
    throw new CliError("IDENTITY", `${origin} is not a valid secp256k1 private key (out of range)`);
  }
  return { address: publicKeyToAddress(publicKey), privateKey };
}

export function generateIdentity(): WalletIdentity {
  const privateKey = generatePrivateKey();
  return { address: publicKeyToAddress(getPublicKey(privateKey)), privateKey };
}

export function encodeKeyFile(identity: WalletIdentity): string {
  const contents: KeyFileContents = {
    type: KEY_FILE_TYPE,
    version: 1,
    address: identity.address,
    privateKey: "0x" + toHex(identity.privateKey),
  };
  return JSON.stringify(contents, null, 2) + "\n";
}

/** Parses a key file: the JSON that `xmtp init` writes, or a file holding just a hex private key. */
export function decodeKeyFile(text: string, path: string): WalletIdentity {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) return identityFromPrivateKey(trimmed, `key file ${path}`);
  let json: Partial<KeyFileContents>;
  try {
    json = JSON.parse(trimmed);
  } catch (err) {
    throw new CliError("IDENTITY", `key file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (json.type !== KEY_FILE_TYPE || json.version !== 1) {
    throw new CliError("IDENTITY", `key file ${path} is not an xmtp-ts key file (type/version not recognised)`);
  }
  if (typeof json.privateKey !== "string") {
    throw new CliError("IDENTITY", `key file ${path} has no "privateKey"`);
  }
  const identity = identityFromPrivateKey(json.privateKey, `"privateKey" in key file ${path}`);
  // The address is stored for people reading the file; a mismatch means it was edited by hand or corrupted.
  if (json.address !== undefined && json.address !== identity.address) {
    throw new CliError(
      "IDENTITY",
      `key file ${path} says its address is ${json.address} but its private key belongs to ${identity.address}`,
    );
  }
  return identity;
}

function describeMode(mode: number): string {
  return "0" + (mode & 0o777).toString(8);
}

/**
 * Loads a key file, refusing one that other users could read or write (as ssh does): a leaked wallet key is a
 * stolen identity. Returns undefined when the file does not exist.
 */
export function readKeyFile(path: string): WalletIdentity | undefined {
  let mode: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new CliError("IDENTITY", `key file ${path} is not a regular file`);
    mode = stat.mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    if (err instanceof CliError) throw err;
    throw new CliError("IDENTITY", `cannot read key file ${path}: ${(err as Error).message}`);
  }
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    throw new CliError(
      "IDENTITY",
      `key file ${path} is accessible by other users (mode ${describeMode(mode)}); ` +
        `restrict it with: chmod 600 ${path}`,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new CliError("IDENTITY", `cannot read key file ${path}: ${(err as Error).message}`);
  }
  return decodeKeyFile(text, path);
}

/** Writes the key file atomically with mode 0600 (its directory 0700 when created). */
export function writeKeyFile(path: string, identity: WalletIdentity): void {
  try {
    writePrivateFile(path, encodeKeyFile(identity));
  } catch (err) {
    throw new CliError("IDENTITY", `cannot write key file ${path}: ${(err as Error).message}`);
  }
}

export interface ResolvedIdentity {
  identity: WalletIdentity;
  source: IdentitySource;
  keyFile: string;
}

/**
 * The identity for every command but init: --key-file (or XMTP_KEY_FILE) if given, else XMTP_PRIVATE_KEY, else
 * the default key file.
 */
export function loadIdentity(keyFileOption: string | undefined, env: Record<string, string | undefined>): ResolvedIdentity {
  if (keyFileOption) {
    const identity = readKeyFile(keyFileOption);
    if (!identity) {
      throw new CliError("IDENTITY", `key file ${keyFileOption} does not exist; create it with: xmtp init --key-file ${keyFileOption}`);
    }
    return { identity, source: "key-file", keyFile: keyFileOption };
  }
  const keyFile = defaultKeyFile(env);
  if (env.XMTP_PRIVATE_KEY) {
    return { identity: identityFromPrivateKey(env.XMTP_PRIVATE_KEY, "XMTP_PRIVATE_KEY"), source: "environment", keyFile };
  }
  const identity = readKeyFile(keyFile);
  if (!identity) {
    throw new CliError(
      "IDENTITY",
      `no identity: ${keyFile} does not exist. Run "xmtp init" first, or set XMTP_PRIVATE_KEY to a wallet private key`,
    );
  }
  return { identity, source: "key-file", keyFile };
}

export interface InitIdentity extends ResolvedIdentity {
  /** True when init wrote (or rewrote) the key file. */
  saved: boolean;
}

/**
 * What `xmtp init` does before going to the network: take the key from XMTP_PRIVATE_KEY or the key file, or create
 * one, and make sure the key file holds it. A key file holding a different identity is only replaced with --force.
 */
export function initIdentity(
  keyFileOption: string | undefined,
  env: Record<string, string | undefined>,
  force: boolean,
): InitIdentity {
  const keyFile = keyFileOption || defaultKeyFile(env);
  const fromEnvironment = env.XMTP_PRIVATE_KEY
    ? identityFromPrivateKey(env.XMTP_PRIVATE_KEY, "XMTP_PRIVATE_KEY")
    : undefined;
  let existing: WalletIdentity | undefined;
  try {
    existing = readKeyFile(keyFile);
  } catch (err) {
    // --force exists to recover from a broken key file too, but only when there is a key to replace it with.
    if (!(force && fromEnvironment)) throw err;
  }
  if (fromEnvironment) {
    if (existing && existing.address === fromEnvironment.address) {
      return { identity: existing, source: "environment", keyFile, saved: false };
    }
    if (existing && !force) {
      throw new CliError(
        "IDENTITY",
        `key file ${keyFile} already holds identity ${existing.address}, but XMTP_PRIVATE_KEY is ${fromEnvironment.address}; ` +
          `pass --force to replace it (the old key is lost unless you kept a copy), or use another --key-file`,
      );
    }
    writeKeyFile(keyFile, fromEnvironment);
    return { identity: fromEnvironment, source: "environment", keyFile, saved: true };
  }
  if (force) throw new CliError("USAGE", "--force needs XMTP_PRIVATE_KEY: it replaces the key file's identity with that key");
  if (existing) return { identity: existing, source: "key-file", keyFile, saved: false };
  const generated = generateIdentity();
  writeKeyFile(keyFile, generated);
  return { identity: generated, source: "generated", keyFile, saved: true };
}
