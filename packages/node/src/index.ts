export type * from "./store/EnvelopeStore.js";
