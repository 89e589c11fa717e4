import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { CliError, ExitCode, toCliError } from "./errors.js";

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("toCliError", () => {
  it("classifies a refused connection from fetch as node unreachable, naming the URL", async () => {
    const apiUrl = `http://127.0.0.1:${await closedPort()}`;
    const thrown = await fetch(apiUrl + "/message/v1/query", { method: "POST" }).catch((err: unknown) => err);
    const error = toCliError(thrown, { apiUrl });
    expect(error.kind).toBe("NODE_UNREACHABLE");
    expect(error.exitCode).toBe(ExitCode.NODE_UNREACHABLE);
    expect(error.message).toContain(apiUrl);
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("finds the network error however deeply the client wrapped it", () => {
    const inner = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const wrapped = new Error("query failed", { cause: new TypeError("fetch failed", { cause: inner }) });
    expect(toCliError(wrapped, { apiUrl: "http://x" }).kind).toBe("NODE_UNREACHABLE");
  });

  it("reports a gRPC error answer as the node refusing, with the code's name and the node's message", () => {
    const answer = Object.assign(new Error("wallet is denied"), { code: 7 });
    const error = toCliError(answer, { apiUrl: "http://x" });
    expect(error.kind).toBe("NODE_ERROR");
    expect(error.message).toContain("permission denied");
    expect(error.message).toContain("wallet is denied");
  });

  it("treats gRPC Unavailable as unreachable", () => {
    expect(toCliError(Object.assign(new Error("shutting down"), { code: 14 }), { apiUrl: "u" }).kind).toBe(
      "NODE_UNREACHABLE",
    );
  });

  it("keeps CliErrors and calls everything else internal", () => {
    const own = new CliError("NOT_ON_NETWORK", "nope");
    expect(toCliError(own, { apiUrl: "u" })).toBe(own);
    const other = toCliError(new RangeError("boom"), { apiUrl: "u" });
    expect(other.exitCode).toBe(ExitCode.INTERNAL);
    expect(other.message).toBe("boom");
  });

  it("gives every kind of failure its own non-zero exit code", () => {
    const codes = Object.entries(ExitCode).filter(([name]) => name !== "OK").map(([, code]) => code);
    expect(codes.every((code) => code > 0)).toBe(true);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
