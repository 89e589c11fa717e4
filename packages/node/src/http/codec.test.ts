import { describe, expect, it } from "vitest";
import { fromBase64, toBase64 } from "@xmtp-ts/crypto";
import { ApiError, GrpcCode } from "../errors.js";
import {
  decodeBatchQueryRequest,
  decodePublishRequest,
  decodeQueryRequest,
  decodeSubscribeRequest,
  encodeEnvelope,
  encodeQueryResponse,
  formatEnvelope,
  MAX_MESSAGE_BYTES,
  parseJsonBody,
} from "./codec.js";
import { MAX_POSTAGE_PROOF_BYTES } from "@xmtp-ts/postage";

const TOPIC = "/xmtp/0/m-abc/proto";

function invalid(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe(GrpcCode.INVALID_ARGUMENT);
    return (error as ApiError).message;
  }
  throw new Error("expected an INVALID_ARGUMENT error");
}

describe("publish request decoding", () => {
  it("decodes camelCase and snake_case envelopes, keeping uint64 precision", () => {
    const envelopes = decodePublishRequest({
      envelopes: [
        { contentTopic: TOPIC, timestampNs: "18446744073709551615", message: "AAEC" },
        { content_topic: TOPIC, timestamp_ns: "1795659984974000001", message: "/w==" },
        { contentTopic: TOPIC, timestampNs: 42, message: "/w" },
      ],
    });
    expect(envelopes.map((e) => e.timestampNs)).toEqual([2n ** 64n - 1n, 1795659984974000001n, 42n]);
    expect([...envelopes[0].message]).toEqual([0, 1, 2]);
    expect([...envelopes[1].message]).toEqual([255]);
    expect([...envelopes[2].message]).toEqual([255]); // unpadded base64 is tolerated
  });

  it.each([
    [[], /envelopes must not be empty/],
    ["x", /envelopes must be an array, got the string "x"/],
    [[5], /envelopes\[0\] must be a JSON object, got number 5/],
    [[{ timestampNs: "1", message: "AA==" }], /envelopes\[0\]\.contentTopic must not be empty/],
    [[{ contentTopic: 7, timestampNs: "1", message: "AA==" }], /contentTopic must be a string, got number 7/],
    [[{ contentTopic: "x".repeat(301), timestampNs: "1", message: "AA==" }], /contentTopic is longer than 300 bytes/],
    [[{ contentTopic: TOPIC, timestampNs: "12abc", message: "AA==" }], /timestampNs must be a non-negative decimal integer string, got the string "12abc"/],
    [[{ contentTopic: TOPIC, timestampNs: "-5", message: "AA==" }], /timestampNs must be a non-negative decimal/],
    [[{ contentTopic: TOPIC, timestampNs: -5, message: "AA==" }], /timestampNs must be a non-negative safe integer/],
    [[{ contentTopic: TOPIC, timestampNs: 2 ** 60, message: "AA==" }], /timestampNs must be a non-negative safe integer/],
    [[{ contentTopic: TOPIC, timestampNs: 1.5, message: "AA==" }], /safe integer/],
    [[{ contentTopic: TOPIC, timestampNs: "18446744073709551616", message: "AA==" }], /exceeds the uint64 range/],
    [[{ contentTopic: TOPIC, timestampNs: true, message: "AA==" }], /timestampNs must be a decimal string, got boolean true/],
    [[{ contentTopic: TOPIC, timestampNs: "1", message: "a-b_" }], /message is not standard base64: invalid base64: character "-"/],
    [[{ contentTopic: TOPIC, timestampNs: "1", message: "AA A" }], /message is not standard base64/],
    [[{ contentTopic: TOPIC, timestampNs: "1", message: "" }], /envelopes\[0\]\.message must not be empty/],
    [[{ contentTopic: TOPIC, timestampNs: "1" }], /message must not be empty/],
    [[{ contentTopic: TOPIC, timestampNs: "1", message: 12 }], /message must be a base64 string/],
    [[{ contentTopic: TOPIC, content_topic: TOPIC, timestampNs: "1", message: "AA==" }], /contentTopic is given twice/],
  ])("rejects envelopes %j", (envelopes, message) => {
    expect(invalid(() => decodePublishRequest({ envelopes }))).toMatch(message);
  });

  it("rejects a message over the size limit and accepts one at it", () => {
    const at = Buffer.alloc(MAX_MESSAGE_BYTES, 1).toString("base64");
    expect(decodePublishRequest({ envelopes: [{ contentTopic: TOPIC, timestampNs: "1", message: at }] })[0].message.length).toBe(MAX_MESSAGE_BYTES);
    const over = Buffer.alloc(MAX_MESSAGE_BYTES + 1, 1).toString("base64");
    expect(invalid(() => decodePublishRequest({ envelopes: [{ contentTopic: TOPIC, timestampNs: "1", message: over }] }))).toMatch(
      /message is 1048215 bytes, more than the 1048214 allowed/,
    );
  });

  it("takes an envelope's postage proof (an xmtp-ts extension), bounded, and never writes it back", () => {
    const proof = toBase64(new Uint8Array([1, 2, 3]));
    const [proved, plain, empty] = decodePublishRequest({
      envelopes: [
        { contentTopic: TOPIC, timestampNs: "1", message: "AQ==", postage: proof },
        { contentTopic: TOPIC, timestampNs: "2", message: "AQ==" },
        { contentTopic: TOPIC, timestampNs: "3", message: "AQ==", postage: "" },
      ],
    });
    expect(proved.postage).toEqual(new Uint8Array([1, 2, 3]));
    expect("postage" in plain).toBe(false);
    expect("postage" in empty).toBe(false);
    expect(encodeEnvelope(proved)).not.toContain("postage");
    const over = toBase64(new Uint8Array(MAX_POSTAGE_PROOF_BYTES + 1));
    expect(invalid(() => decodePublishRequest({ envelopes: [{ contentTopic: TOPIC, timestampNs: "1", message: "AQ==", postage: over }] }))).toMatch(
      /envelopes\[0\]\.postage is 8193 bytes, more than the 8192 allowed/,
    );
    expect(invalid(() => decodePublishRequest({ envelopes: [{ contentTopic: TOPIC, timestampNs: "1", message: "AQ==", postage: 5 }] }))).toMatch(
      /envelopes\[0\]\.postage must be a base64 string/,
    );
  });

  it("rejects a body that is not a JSON object", () => {
    expect(invalid(() => parseJsonBody("{oops"))).toMatch(/request body is not valid JSON/);
    expect(invalid(() => decodePublishRequest([]))).toMatch(/request must be a JSON object, got an array/);
    expect(invalid(() => decodePublishRequest(null))).toMatch(/got null/);
  });
});

describe("query request decoding", () => {
  it("applies the defaults: limit 100, descending, no bounds", () => {
    expect(decodeQueryRequest({ contentTopics: [TOPIC] })).toEqual({
      topic: TOPIC,
      startTimeNs: undefined,
      endTimeNs: undefined,
      limit: 100,
      direction: "descending",
      cursor: undefined,
    });
    expect(decodeQueryRequest({ contentTopics: [TOPIC], pagingInfo: { limit: 0, direction: 0 } })).toMatchObject({ limit: 100, direction: "descending" });
    expect(decodeQueryRequest({ contentTopics: [TOPIC], pagingInfo: { direction: "SORT_DIRECTION_UNSPECIFIED" } }).direction).toBe("descending");
  });

  it("reads bounds, paging and a cursor in either naming", () => {
    const camel = decodeQueryRequest({
      contentTopics: [TOPIC],
      startTimeNs: "5",
      endTimeNs: "9",
      pagingInfo: { limit: 2, direction: "SORT_DIRECTION_ASCENDING", cursor: { index: { digest: "AQI=", senderTimeNs: "7" } } },
    });
    const snake = decodeQueryRequest({
      content_topics: [TOPIC],
      start_time_ns: 5,
      end_time_ns: "9",
      paging_info: { limit: "2", direction: 1, cursor: { index: { digest: "AQI=", sender_time_ns: "7" } } },
    });
    expect(snake).toEqual(camel);
    expect(camel).toMatchObject({ startTimeNs: 5n, endTimeNs: 9n, limit: 2, direction: "ascending" });
    expect([...camel.cursor!.digest]).toEqual([1, 2]);
    expect(camel.cursor!.senderTimeNs).toBe(7n);
    expect(decodeQueryRequest({ contentTopics: [TOPIC], pagingInfo: { direction: 2, cursor: null } }).cursor).toBeUndefined();
  });

  it("allows pages of up to 500 rows for a private-preferences topic only, as the reference node does", () => {
    const preferences = "/xmtp/0/userpreferences-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde/proto";
    expect(decodeQueryRequest({ contentTopics: [preferences], pagingInfo: { limit: 500 } }).limit).toBe(500);
    expect(invalid(() => decodeQueryRequest({ contentTopics: [preferences], pagingInfo: { limit: 501 } }))).toMatch(
      /^cannot exceed 500 rows per query$/,
    );
    // The larger page is for that topic family alone: a name merely containing the prefix gets the usual cap.
    const lookalike = "/xmtp/0/m-userpreferences-x/proto";
    expect(invalid(() => decodeQueryRequest({ contentTopics: [lookalike], pagingInfo: { limit: 101 } }))).toMatch(
      /^cannot exceed 100 rows per query$/,
    );
  });

  it.each([
    [{}, /contentTopics must name a content topic/],
    [{ contentTopics: [] }, /contentTopics must name a content topic/],
    [{ contentTopics: [TOPIC, TOPIC] }, /names 2 topics; a query takes exactly one/],
    [{ contentTopics: [""] }, /contentTopics\[0\] must not be empty/],
    [{ contentTopics: TOPIC }, /contentTopics must be an array/],
    [{ contentTopics: [TOPIC], pagingInfo: { limit: 101 } }, /cannot exceed 100 rows per query/],
    [{ contentTopics: [TOPIC], pagingInfo: { limit: -1 } }, /limit must be a non-negative 32-bit integer/],
    [{ contentTopics: [TOPIC], pagingInfo: { direction: "UP" } }, /direction must be SORT_DIRECTION_ASCENDING/],
    [{ contentTopics: [TOPIC], pagingInfo: { direction: 3 } }, /direction must be/],
    [{ contentTopics: [TOPIC], pagingInfo: 5 }, /pagingInfo must be a JSON object/],
    [{ contentTopics: [TOPIC], startTimeNs: "yesterday" }, /startTimeNs must be a non-negative decimal/],
    [{ contentTopics: [TOPIC], pagingInfo: { cursor: { index: { digest: "@@" } } } }, /pagingInfo\.cursor\.index\.digest is not standard base64/],
  ])("rejects %j", (request, message) => {
    expect(invalid(() => decodeQueryRequest(request))).toMatch(message);
  });
});

describe("batch-query and subscribe decoding", () => {
  it("decodes batches in order and bounds their size", () => {
    const batch = decodeBatchQueryRequest({ requests: [{ contentTopics: ["/a"] }, { contentTopics: ["/b"], pagingInfo: { limit: 5 } }] });
    expect(batch.map((q) => [q.topic, q.limit])).toEqual([["/a", 100], ["/b", 5]]);
    expect(decodeBatchQueryRequest({})).toEqual([]);
    const fifty = Array.from({ length: 50 }, () => ({ contentTopics: ["/a"] }));
    expect(decodeBatchQueryRequest({ requests: fifty })).toHaveLength(50);
    expect(invalid(() => decodeBatchQueryRequest({ requests: [...fifty, { contentTopics: ["/a"] }] }))).toMatch(/cannot exceed 50 queries per batch, got 51/);
    expect(invalid(() => decodeBatchQueryRequest({ requests: [{ contentTopics: ["/a"] }, { contentTopics: [] }] }))).toMatch(/requests\[1\]\.contentTopics must name/);
  });

  it("decodes subscriptions and refuses empty topic lists", () => {
    expect(decodeSubscribeRequest({ contentTopics: ["/a", "/b"] })).toEqual(["/a", "/b"]);
    expect(decodeSubscribeRequest({ content_topics: ["/a"] })).toEqual(["/a"]);
    expect(invalid(() => decodeSubscribeRequest({ contentTopics: [] }))).toMatch(/at least one content topic/);
    expect(invalid(() => decodeSubscribeRequest({ contentTopics: ["/a", 3] }))).toMatch(/contentTopics\[1\] must be a string/);
  });
});

describe("query response encoding", () => {
  const envelope = { contentTopic: TOPIC, timestampNs: 18446744073709551615n, message: new Uint8Array([251, 255]), digest: new Uint8Array([1, 2, 3]) };
  const query = { topic: TOPIC, limit: 1, direction: "ascending" as const };

  it("writes uint64 as strings, bytes as standard base64 and the cursor shape the SDK echoes", () => {
    const json = JSON.parse(encodeQueryResponse({ envelopes: [envelope], cursor: { digest: envelope.digest, senderTimeNs: envelope.timestampNs } }, query));
    expect(json).toEqual({
      envelopes: [{ contentTopic: TOPIC, timestampNs: "18446744073709551615", message: "+/8=" }],
      pagingInfo: { limit: 1, cursor: { index: { digest: "AQID", senderTimeNs: "18446744073709551615" } }, direction: "SORT_DIRECTION_ASCENDING" },
    });
  });

  it("writes a null cursor on a short page and escapes topics", () => {
    const odd = { ...envelope, contentTopic: '/xmtp/0/"quoted"\n/proto' };
    const json = JSON.parse(encodeQueryResponse({ envelopes: [odd] }, { ...query, direction: "descending", limit: 5 }));
    expect(json.envelopes[0].contentTopic).toBe(odd.contentTopic);
    expect(json.pagingInfo).toEqual({ limit: 5, cursor: null, direction: "SORT_DIRECTION_DESCENDING" });
  });
});

describe("envelope encoding", () => {
  it("writes the same base64 as @xmtp-ts/crypto for every length and for views into larger buffers", () => {
    const backing = new Uint8Array(300).map((_, i) => (i * 151 + 7) & 0xff);
    for (let length = 0; length <= 40; length++) {
      for (const offset of [0, 1, 2, 255]) {
        const message = backing.subarray(offset, offset + length);
        const json = JSON.parse(formatEnvelope({ contentTopic: TOPIC, timestampNs: 1n, message }));
        expect(json.message, `length ${length} at offset ${offset}`).toBe(toBase64(message));
        expect(fromBase64(json.message)).toEqual(message);
      }
    }
  });

  it("gives an envelope the same JSON on every encoding, and equal envelopes equal JSON", () => {
    const envelope = { contentTopic: TOPIC, timestampNs: 5n, message: new Uint8Array([1, 2, 3]) };
    const first = encodeEnvelope(envelope);
    expect(encodeEnvelope(envelope)).toBe(first);
    expect(encodeEnvelope({ ...envelope })).toBe(first);
    expect(JSON.parse(first)).toEqual({ contentTopic: TOPIC, timestampNs: "5", message: "AQID" });
  });
});
