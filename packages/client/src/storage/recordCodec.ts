// Records the inbox store keeps are small JSON documents: bytes as base64, bigints as decimal strings. JSON keeps the
// format readable in a debugger and versionable field by field; the local database encrypts it as a whole.
import { fromBase64, toBase64 } from "@xmtp-ts/crypto";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeRecord(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function decodeRecord<T>(bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes)) as T;
}

export const bytesField = (bytes: Uint8Array): string => toBase64(bytes);
export const bytesOf = (field: string): Uint8Array => fromBase64(field);
export const bigintField = (value: bigint): string => value.toString();
export const bigintOf = (field: string): bigint => BigInt(field);
