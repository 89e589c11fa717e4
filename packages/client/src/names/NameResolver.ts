// What the client asks of a name system: ENS is built in (EnsNameResolver); others (Lens handles, say) implement
// the same two calls.

export interface NameResolver {
  /**
   * The address `name` points to (checksummed), or null when it points nowhere. Throws InvalidNameError for a
   * malformed name and NameRpcError when the name system cannot be asked; never returns an address it did not read.
   */
  resolve(name: string): Promise<string | null>;
  /**
   * The primary name of `address`, only when that name resolves back to the same address; null otherwise (no
   * reverse record, or one that claims a name pointing elsewhere). Throws NameRpcError when the system cannot be asked.
   */
  lookup(address: string): Promise<string | null>;
}
