import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors.js";
import { LineDecoder, parseStreamLine, StreamDroppedError } from "./ndjson.js";

describe("LineDecoder", () => {
  it("joins lines split across chunks, including inside a multi-byte character", () => {
    const bytes = new TextEncoder().encode('{"a":"é"}\n{"b":1}\n{"c"');
    const decoder = new LineDecoder();
    const split = bytes.indexOf(0xc3) + 1; // between the two bytes of "é"
    expect(decoder.push(bytes.subarray(0, split))).toEqual([]);
    expect(decoder.push(bytes.subarray(split))).toEqual(['{"a":"é"}', '{"b":1}']);
    expect(decoder.push(new TextEncoder().encode(":2}\n"))).toEqual(['{"c":2}']);
  });

  it("gives up on a line that never ends", () => {
    const decoder = new LineDecoder(10);
    expect(() => decoder.push(new TextEncoder().encode("x".repeat(11)))).toThrow(StreamDroppedError);
  });
});

describe("parseStreamLine", () => {
  it("reads an envelope", () => {
    expect(parseStreamLine('{"result":{"contentTopic":"/t","timestampNs":"5","message":"AQI="}}')).toEqual({
      contentTopic: "/t",
      timestampNs: 5n,
      message: new Uint8Array([1, 2]),
    });
  });

  it("skips keep-alives and blank lines", () => {
    expect(parseStreamLine('{"result":{}}')).toBeUndefined();
    expect(parseStreamLine("")).toBeUndefined();
    expect(parseStreamLine("\r")).toBeUndefined();
  });

  it("turns an error line into a dropped stream carrying the node's code", () => {
    let error: unknown;
    try {
      parseStreamLine('{"error":{"code":8,"message":"stream closed: the subscriber is too slow","details":[]}}');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StreamDroppedError);
    expect((error as Error).message).toMatch(/the node ended the stream: subscribe: stream closed: the subscriber is too slow/);
    expect((error as Error).cause).toBeInstanceOf(ApiError);
    expect(((error as Error).cause as ApiError).code).toBe(8);
  });

  it.each([
    ["not json", /not JSON/],
    ["{}", /without a result/],
    ["[1]", /not an object/],
    ['{"result":{"contentTopic":"/t","timestampNs":"x","message":"AA=="}}', /malformed envelope: .*timestampNs/],
    ['{"result":{"contentTopic":"/t","timestampNs":"1","message":"-_=="}}', /malformed envelope: .*invalid base64/],
  ])("drops the stream on %j", (line, message) => {
    expect(() => parseStreamLine(line)).toThrow(message);
  });
});
