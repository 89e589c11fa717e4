// Postage (docs/postage.md): proofs that make a first message free or paid, the vault contract that settles payments.
export * from "./reachTopics.js";
export * from "./voucher.js";
export * from "./vault.js";
export * from "./vaultErrors.js";
export * from "./chainProvider.js";
export { POSTAGE_VAULT_ABI, POSTAGE_VAULT_BYTECODE, POSTAGE_VAULT_SOLC_VERSION, POSTAGE_VAULT_SOLC_SETTINGS } from "./vaultArtifact.js";
export * from "./envelopeDigest.js";
export * from "./addresses.js";
export * from "./identitySignature.js";
export * from "./identityKey.js";
export * from "./seal.js";
export * from "./grant.js";
export * from "./headers.js";
export * from "./cumulative.js";
export * from "./stamp.js";
export * from "./proof.js";
export * from "./verify.js";
export * from "./relationshipEvidence.js";
