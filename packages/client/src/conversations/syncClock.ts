// Syncs ask the node for envelopes since the previous sync began, minus an allowance for senders whose clocks lag
// (docs/protocol/paging.md §4): envelope timestamps come from the senders' clocks.
export const CLOCK_SKEW_NS = 10_000_000_000n;

export const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
