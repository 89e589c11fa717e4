// Types for the parts of http_ece (Mozilla's RFC 8188 implementation) the tests use as an independent Web Push
// decryptor: the service's own encryption is checked against it, never against itself.
declare module "http_ece" {
  import type { ECDH } from "node:crypto";
  export interface EceParams {
    version: "aes128gcm";
    privateKey?: ECDH;
    dh?: string | Buffer;
    authSecret?: string | Buffer;
    salt?: string | Buffer;
    keyid?: string | Buffer;
    rs?: number;
  }
  export function decrypt(buffer: Buffer, params: EceParams): Buffer;
  export function encrypt(buffer: Buffer, params: EceParams): Buffer;
}
