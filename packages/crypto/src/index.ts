export * from "./bytes.js";
export * from "./hashes.js";
export * from "./secp256k1.js";
export * from "./address.js";
export * from "./walletSignature.js";
export * from "./identityKey.js";
export * from "./authToken.js";
