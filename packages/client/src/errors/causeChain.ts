// Walking an error's `cause` links: the client wraps what went wrong (a fetch failure inside an ApiError inside a
// postage refusal...), and apps look for a particular link to explain it.

/** How many links `causeChain` follows unless told otherwise: real chains are a few links long. */
export const MAX_CAUSE_CHAIN = 10;

/**
 * `error`, its `cause`, that one's `cause`, and so on: at most `limit` links, stopping at the first null or
 * undefined link and at a cycle (a link already in the chain).
 */
export function causeChain(error: unknown, limit = MAX_CAUSE_CHAIN): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < limit && !chain.includes(current)) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}
