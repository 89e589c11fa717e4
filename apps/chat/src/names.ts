// ENS names and avatars as the app shows them (pure: no network, no DOM). Which RPC URLs and avatar URLs are
// accepted, how a peer is labelled, and the two contract calls that read a name's `avatar` text record (ENSIP-5):
// the registry's resolver(bytes32), then the resolver's text(bytes32,string). The app carries no ABI library, so
// the calls are encoded here by hand; keccak-256 comes from @xmtp-ts/crypto.
import { keccak256 } from "@xmtp-ts/crypto";
import { shortAddress } from "./format.js";

/** ENS's registry, at the same address on mainnet and its testnets (EIP-137 deployments). */
export const ENS_REGISTRY = "0x00000000000C2E074eC69A0dFb2997BA6C7d2e1e";
/** resolver(bytes32) on the registry. */
export const RESOLVER_SELECTOR = "0178b8bf";
/** text(bytes32,string) on a resolver (ENSIP-5). */
export const TEXT_SELECTOR = "59d1d43c";
/** Avatar texts longer than this are not used (a data: URL inlines the picture; keep pages light). */
export const MAX_AVATAR_CHARS = 200_000;

/** What the app knows about a peer's name: its verified ENS name (null: none), and an avatar that may be shown. */
export interface PeerName {
  readonly name: string | null;
  readonly avatarUrl?: string;
}

/** The Ethereum JSON-RPC URL typed or given (?ethRpcUrl=): trimmed, http(s) only; "" means none. */
export function parseEthRpcUrl(input: string): string {
  const value = input.trim();
  if (value === "") return "";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`"${value}" is not a URL. The Ethereum JSON-RPC for names looks like https://… or http://127.0.0.1:8545.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`The Ethereum JSON-RPC for names must be an http:// or https:// URL, not "${value}".`);
  }
  return value;
}

/**
 * Why a name typed as a peer cannot be used: `error` is what resolving it threw, null when it resolves to nothing,
 * "no-rpc" when names are off.
 */
export function nameLookupProblem(name: string, error: unknown): string {
  if (error === "no-rpc") {
    return `"${name}" is a name. Looking up names needs an Ethereum JSON-RPC: set one under Advanced on the connect screen (or ?ethRpcUrl= in the page address), or enter a 0x address.`;
  }
  if (error === null) return `${name} does not point to an address: no such name, or it has no address record.`;
  const kind = (error as { name?: string } | undefined)?.name;
  if (kind === "InvalidNameError") return `"${name}" is not a valid name. Enter a name like alice.eth, or a 0x address.`;
  const rpc = error as { rpcUrl?: unknown; reason?: unknown } | undefined;
  if (typeof rpc?.rpcUrl === "string" && typeof rpc.reason === "string") {
    return `Could not look up ${name}: the Ethereum JSON-RPC at ${rpc.rpcUrl} failed (${rpc.reason}).`;
  }
  return `Could not look up ${name}: ${error instanceof Error ? error.message : String(error)}`;
}

/** The label of a peer: the verified name when there is one, else the short address. */
export function peerLabel(address: string, known: PeerName | undefined): string {
  return known?.name ?? shortAddress(address);
}

/**
 * Whether an avatar text record may be loaded as a picture: an https URL, or a data: URL of an image. Anything else
 * (http, ipfs://, eip155: NFT references, javascript:) is not loaded: the initials show instead.
 */
export function avatarUrlOf(record: string | null | undefined): string | undefined {
  const value = record?.trim();
  if (!value || value.length > MAX_AVATAR_CHARS) return undefined;
  if (/^data:image\/[a-z0-9.+-]+[;,]/i.test(value)) return value;
  try {
    const url = new URL(value);
    return url.protocol === "https:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(value: string): Uint8Array {
  const digits = value.replace(/^0x/, "");
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** ENS's namehash (EIP-137) of a normalized name, as 64 hex digits (no 0x). */
export function namehash(name: string): string {
  let node: Uint8Array = new Uint8Array(32);
  if (name === "") return hex(node);
  const labels = name.split(".");
  for (let i = labels.length - 1; i >= 0; i--) {
    const label = keccak256(new TextEncoder().encode(labels[i]));
    const joined = new Uint8Array(64);
    joined.set(node, 0);
    joined.set(label, 32);
    node = keccak256(joined);
  }
  return hex(node);
}

function word(n: number): string {
  return n.toString(16).padStart(64, "0");
}

/** The call data of registry.resolver(node). */
export function resolverCall(node: string): string {
  return `0x${RESOLVER_SELECTOR}${node}`;
}

/** The call data of resolver.text(node, key). */
export function textCall(node: string, key: string): string {
  const bytes = hex(new TextEncoder().encode(key));
  const padded = bytes.padEnd(Math.ceil(bytes.length / 64) * 64, "0");
  return `0x${TEXT_SELECTOR}${node}${word(64)}${word(bytes.length / 2)}${padded}`;
}

/** An address returned by a call (one 32-byte word); null for the zero address or an empty answer. */
export function decodeAddress(result: string): string | null {
  const digits = result.replace(/^0x/, "");
  if (digits.length < 64) return null;
  const address = digits.slice(24, 64);
  return /^0+$/.test(address) ? null : `0x${address}`;
}

/** A string returned by a call (offset, length, bytes); "" for an empty or malformed answer. */
export function decodeString(result: string): string {
  const digits = result.replace(/^0x/, "");
  if (digits.length < 128) return "";
  const offset = parseInt(digits.slice(0, 64), 16) * 2;
  const length = parseInt(digits.slice(offset, offset + 64), 16);
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) return "";
  const start = offset + 64;
  if (digits.length < start + length * 2) return "";
  return new TextDecoder().decode(fromHex(digits.slice(start, start + length * 2)));
}
