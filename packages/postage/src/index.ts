// Postage (docs/postage.md): proofs that make a first message free or paid, the vault contract that settles payments.
export * from "./reachTopics.js";
