// Postage (docs/postage.md): proofs that make a first message free or paid, the vault contract that settles payments.
export * from "./reachTopics.js";
export * from "./voucher.js";
export * from "./vault.js";
export * from "./vaultErrors.js";
export * from "./chainProvider.js";
export { POSTAGE_VAULT_ABI, POSTAGE_VAULT_BYTECODE, POSTAGE_VAULT_SOLC_VERSION, POSTAGE_VAULT_SOLC_SETTINGS } from "./vaultArtifact.js";
