// The admin HTTP API for the allow/deny lists, under /admin/v1/authz. It needs `Authorization: Bearer <admin
// token>`; without a configured token the whole API is switched off and answers 404.
//   GET    /admin/v1/authz             → {mode, entries}
//   GET    /admin/v1/authz/<address>   → {entry}
//   POST   /admin/v1/authz             {address, permission: "allow"|"deny", priority?} → {entry}
//   PUT    /admin/v1/authz/<address>   {permission, priority?} → {entry}
//   DELETE /admin/v1/authz/<address>   → {removed: true}
import { createHash, timingSafeEqual } from "node:crypto";
import { ApiError, GrpcCode, invalidArgument } from "../errors.js";
import type { AccessControl } from "./accessControl.js";
import { AuthzInputError, normalizeWalletAddress, type AuthzEntry } from "./authzStore.js";

export const ADMIN_PATH_PREFIX = "/admin/";
const AUTHZ_COLLECTION = "/admin/v1/authz";

export interface AdminRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  /** The request body as text (already size-capped by the caller); empty when there is none. */
  body: string;
}

export interface AdminResponse {
  status: number;
  body: unknown;
}

export interface AdminApiOptions {
  adminToken: string | undefined;
  accessControl: AccessControl | undefined;
}

export function isAdminPath(path: string): boolean {
  return path.startsWith(ADMIN_PATH_PREFIX);
}

/** Compares digests so neither the token's content nor its length leaks through timing. */
export function adminTokenMatches(presented: string, expected: string): boolean {
  const a = createHash("sha256").update(presented, "utf8").digest();
  const b = createHash("sha256").update(expected, "utf8").digest();
  return timingSafeEqual(a, b);
}

function bearerOf(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return match?.[1];
}

function entryJson(entry: AuthzEntry) {
  return {
    address: entry.address,
    permission: entry.permission,
    priority: entry.priority,
    updatedAt: new Date(entry.updatedAtMs).toISOString(),
  };
}

function parseBody(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidArgument("request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

function addressFromPath(segment: string): string {
  try {
    return normalizeWalletAddress(decodeURIComponent(segment));
  } catch (err) {
    throw invalidArgument(`in the path: ${(err as Error).message}`);
  }
}

function asInputError<T>(run: () => Promise<T>): Promise<T> {
  return run().catch((err) => {
    if (err instanceof AuthzInputError) throw invalidArgument(err.message);
    throw err;
  });
}

export async function answerAdminRequest(request: AdminRequest, options: AdminApiOptions): Promise<AdminResponse> {
  if (!options.adminToken) {
    throw new ApiError(GrpcCode.NOT_FOUND, "the admin API is disabled on this node (start it with --admin-token)");
  }
  const presented = bearerOf(request.authorization);
  if (!presented) {
    throw new ApiError(GrpcCode.UNAUTHENTICATED, "admin API: missing 'Authorization: Bearer <admin token>' header");
  }
  if (!adminTokenMatches(presented, options.adminToken)) {
    throw new ApiError(GrpcCode.UNAUTHENTICATED, "admin API: wrong admin token");
  }
  const accessControl = options.accessControl;
  if (!accessControl) throw new ApiError(GrpcCode.UNAVAILABLE, "admin API: access control is not running");

  const path = request.path.replace(/\/+$/, "");
  const method = request.method.toUpperCase();
  if (path === AUTHZ_COLLECTION) {
    if (method === "GET") {
      await accessControl.refresh();
      return { status: 200, body: { mode: accessControl.mode, entries: accessControl.list().map(entryJson) } };
    }
    if (method === "POST") {
      const body = parseBody(request.body);
      const entry = await asInputError(() =>
        accessControl.put({
          address: body.address as string,
          permission: body.permission as "allow" | "deny",
          priority: body.priority as boolean | undefined,
        }),
      );
      return { status: 200, body: { entry: entryJson(entry) } };
    }
    throw methodNotAllowed(method, path, "GET, POST");
  }
  if (path.startsWith(AUTHZ_COLLECTION + "/") && !path.slice(AUTHZ_COLLECTION.length + 1).includes("/")) {
    const address = addressFromPath(path.slice(AUTHZ_COLLECTION.length + 1));
    if (method === "GET") {
      await accessControl.refresh();
      const entry = accessControl.entryOf(address);
      if (!entry) throw new ApiError(GrpcCode.NOT_FOUND, `wallet ${address} is on neither list`);
      return { status: 200, body: { entry: entryJson(entry) } };
    }
    if (method === "PUT") {
      const body = parseBody(request.body);
      if (body.address !== undefined && normalizeSafely(body.address) !== address) {
        throw invalidArgument("the address in the body differs from the one in the path");
      }
      const entry = await asInputError(() =>
        accessControl.put({
          address,
          permission: body.permission as "allow" | "deny",
          priority: body.priority as boolean | undefined,
        }),
      );
      return { status: 200, body: { entry: entryJson(entry) } };
    }
    if (method === "DELETE") {
      if (!(await accessControl.remove(address))) {
        throw new ApiError(GrpcCode.NOT_FOUND, `wallet ${address} is on neither list`);
      }
      return { status: 200, body: { removed: true, address } };
    }
    throw methodNotAllowed(method, path, "GET, PUT, DELETE");
  }
  throw new ApiError(GrpcCode.NOT_FOUND, `no admin endpoint at ${path}`);
}

function normalizeSafely(address: unknown): string | undefined {
  try {
    return normalizeWalletAddress(address);
  } catch {
    return undefined;
  }
}

function methodNotAllowed(method: string, path: string, allowed: string): ApiError {
  return new ApiError(GrpcCode.UNIMPLEMENTED, `${path} does not answer ${method} (allowed: ${allowed})`, 405);
}
