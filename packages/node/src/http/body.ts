import type { IncomingMessage } from "node:http";
import { ApiError, GrpcCode } from "../errors.js";
import type { BodyBudget } from "./bodyBudget.js";

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(GrpcCode.RESOURCE_EXHAUSTED, `request body is larger than ${maxBytes} bytes`, 413);
}

/** Where a body's bytes are accounted while it is held: the budget and the client address key it is charged to. */
export interface BodyAccount {
  budget: BodyBudget;
  clientKey: string;
}

/**
 * The request body as text, refusing bodies over `maxBytes`: from the declared Content-Length before reading a
 * byte, and while streaming (chunked or lying clients) as soon as the count passes the cap. Past the cap nothing
 * more is kept, so an oversized body never sits in memory. With an account, the bytes held count against the
 * client's and the node's body budget until the body is read, refused or abandoned.
 */
export function readBody(req: IncomingMessage, maxBytes: number, account?: BodyAccount): Promise<string> {
  const header = req.headers["content-length"];
  const declared = header === undefined ? undefined : Number(header);
  if (declared !== undefined && declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
  let reserved = 0;
  const reserve = (bytes: number) => {
    if (!account || bytes <= 0) return;
    account.budget.reserve(account.clientKey, bytes);
    reserved += bytes;
  };
  const releaseAll = () => {
    account?.budget.release(account.clientKey, reserved);
    reserved = 0;
  };
  // The declared length is taken at once: a client that declares much and sends little holds it all the same.
  try {
    if (declared !== undefined && Number.isFinite(declared)) reserve(declared);
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const refuse = (error: unknown) => {
      refused = true;
      chunks.length = 0;
      releaseAll();
      reject(error);
    };
    req.on("data", (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBytes) return refuse(tooLarge(maxBytes));
      try {
        if (size > reserved) reserve(size - reserved);
      } catch (error) {
        return refuse(error);
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (refused) return;
      releaseAll();
      resolve(chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks, size).toString("utf8"));
    });
    req.on("error", (error) => {
      if (!refused) refuse(error);
    });
    // A client that goes away mid-body gives back what it held (no 'end' or 'error' may follow).
    req.on("close", () => {
      if (!refused && !req.complete) refuse(new ApiError(GrpcCode.CANCELLED, "the client closed the connection mid-request"));
    });
  });
}
