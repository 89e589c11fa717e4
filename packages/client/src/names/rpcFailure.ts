// A short reason for a failed JSON-RPC call, for NameRpcError's message: the socket error's code, a timeout, or
// what ethers or the RPC said.
import { isError } from "ethers";

function codeIn(error: unknown, depth = 0): string | undefined {
  if (depth > 5 || typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && /^E[A-Z]+$|^UND_ERR_/.test(code)) return code;
  const inner = (error as { errors?: unknown }).errors;
  if (Array.isArray(inner)) {
    for (const e of inner) {
      const found = codeIn(e, depth + 1);
      if (found) return found;
    }
  }
  return codeIn((error as { cause?: unknown }).cause, depth + 1) ?? codeIn((error as { error?: unknown }).error, depth + 1);
}

export function rpcFailureReason(error: unknown, timeoutMs: number): string {
  const socket = codeIn(error);
  if (socket) return socket;
  if (isError(error, "TIMEOUT") || (error as { name?: unknown })?.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  const short = (error as { shortMessage?: unknown })?.shortMessage;
  if (typeof short === "string") return short;
  return error instanceof Error ? error.message : String(error);
}

/** Whether a Universal Resolver call failed because the name has no resolver (not a failure of the RPC). */
export function isResolverNotFound(error: unknown): boolean {
  if (!isError(error, "CALL_EXCEPTION")) return false;
  const name = error.revert?.name;
  return name === "ResolverNotFound" || name === "ResolverNotContract";
}
