import { GrpcCode } from "@xmtp-ts/proto";
import { describe, expect, it } from "vitest";
import { grpcCodeOf, grpcStatusOf, isGrpcErrorCode } from "./grpcStatus.js";

describe("grpcStatusOf", () => {
  it("finds the node's status inside wrappers, with the node's own words", () => {
    // As the client's API error carries it: the node's words in serverMessage, call and status in message.
    const answer = Object.assign(new Error("publish: wallet is denied (code 7, HTTP 403)"), {
      code: GrpcCode.PERMISSION_DENIED,
      serverMessage: "wallet is denied",
    });
    const wrapped = new Error("send failed", { cause: new Error("publish failed", { cause: answer }) });
    expect(grpcStatusOf(wrapped)).toEqual({ code: GrpcCode.PERMISSION_DENIED, message: "wallet is denied", error: answer });
  });

  it("takes the outermost status", () => {
    const inner = Object.assign(new Error("inner"), { code: GrpcCode.UNAVAILABLE });
    const outer = Object.assign(new Error("outer", { cause: inner }), { code: GrpcCode.INTERNAL });
    expect(grpcStatusOf(outer)?.code).toBe(GrpcCode.INTERNAL);
  });

  it("falls back to the message, then to no text", () => {
    expect(grpcStatusOf(Object.assign(new Error("shutting down"), { code: 14 }))?.message).toBe("shutting down");
    expect(grpcStatusOf({ code: GrpcCode.INTERNAL })).toMatchObject({ code: GrpcCode.INTERNAL, message: "" });
  });

  it("ignores codes that are no gRPC error status", () => {
    for (const code of [0, 17, -1, 7.5, "7", "postage_required", undefined]) {
      expect(grpcStatusOf(Object.assign(new Error("x"), { code }))).toBeUndefined();
      expect(isGrpcErrorCode(code)).toBe(false);
    }
    expect(isGrpcErrorCode(GrpcCode.CANCELLED)).toBe(true);
    expect(isGrpcErrorCode(GrpcCode.UNAUTHENTICATED)).toBe(true);
  });
});

describe("grpcCodeOf", () => {
  it("reads one error's status, without looking at its causes", () => {
    expect(grpcCodeOf({ code: GrpcCode.RESOURCE_EXHAUSTED })).toBe(GrpcCode.RESOURCE_EXHAUSTED);
    expect(grpcCodeOf(new Error("outer", { cause: { code: GrpcCode.UNAVAILABLE } }))).toBeUndefined();
    expect(grpcCodeOf(undefined)).toBeUndefined();
    expect(grpcCodeOf(null)).toBeUndefined();
    expect(grpcCodeOf("text")).toBeUndefined();
  });
});
