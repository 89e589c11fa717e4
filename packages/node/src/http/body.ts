import type { IncomingMessage } from "node:http";
import { ApiError, GrpcCode } from "../errors.js";

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(GrpcCode.RESOURCE_EXHAUSTED, `request body is larger than ${maxBytes} bytes`, 413);
}

/**
 * The request body as text, refusing bodies over `maxBytes`: from the declared Content-Length before reading a
 * byte, and while streaming (chunked or lying clients) as soon as the count passes the cap. Past the cap nothing
 * more is kept, so an oversized body never sits in memory.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(tooLarge(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on("data", (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBytes) {
        refused = true;
        chunks.length = 0;
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (refused) return;
      resolve(chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks, size).toString("utf8"));
    });
    req.on("error", (error) => {
      if (!refused) reject(error);
    });
  });
}
