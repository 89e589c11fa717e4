import type { CurveName } from "./backend/types.js";

/** Base of the package's typed errors; `code` is stable for programs, the message is for people. */
export class XmtpCryptoError extends Error {
  constructor(
    readonly code:
      | "decryption_failed"
      | "invalid_ciphertext"
      | "invalid_key"
      | "invalid_key_bundle"
      | "invalid_signature"
      | "invalid_invitation"
      | "invalid_message"
      | "invalid_key_storage"
      | "invalid_argument"
      | "curve_unavailable",
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "XmtpCryptoError";
  }
}

export class DecryptionError extends XmtpCryptoError {
  constructor(message = "decryption failed: the key or the associated data does not match") {
    super("decryption_failed", message);
    this.name = "DecryptionError";
  }
}

export class InvalidKeyBundleError extends XmtpCryptoError {
  constructor(message: string) {
    super("invalid_key_bundle", message);
    this.name = "InvalidKeyBundleError";
  }
}

export class InvalidInvitationError extends XmtpCryptoError {
  constructor(message: string) {
    super("invalid_invitation", message);
    this.name = "InvalidInvitationError";
  }
}

export class InvalidMessageError extends XmtpCryptoError {
  constructor(message: string) {
    super("invalid_message", message);
    this.name = "InvalidMessageError";
  }
}

export class KeyStorageError extends XmtpCryptoError {
  constructor(message: string) {
    super("invalid_key_storage", message);
    this.name = "KeyStorageError";
  }
}

/** A libsecp256k1 back end that cannot be used here: its binary is missing, fails to load, or is not the expected one. */
export class CurveLoadError extends XmtpCryptoError {
  constructor(
    readonly curve: Exclude<CurveName, "noble">,
    message: string,
    options?: ErrorOptions,
  ) {
    super("curve_unavailable", `${curve}: ${message}`, options);
    this.name = "CurveLoadError";
  }
}
