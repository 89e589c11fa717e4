export type { NameResolver } from "./NameResolver.js";
export { EnsNameResolver, DEFAULT_NAME_RPC_TIMEOUT_MS, DEFAULT_NAME_TTL_MS, type EnsNameResolverOptions } from "./EnsNameResolver.js";
export { ENS_REGISTRY_ADDRESS } from "./ensProvider.js";
export { isAddressLike, normalizeName } from "./nameInput.js";
export { resolvePeer } from "./resolvePeer.js";
export { InvalidNameError, NameNotFoundError, NameResolutionError, NameRpcError, NoNameResolverError } from "./nameErrors.js";
