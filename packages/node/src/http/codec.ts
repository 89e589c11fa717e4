// The grpc-gateway JSON mapping of the message API (docs/protocol/api.md §2): request decoding with validation that names
// the offending field, and response encoding. bytes are strict standard base64; uint64 are decimal strings
// (JSON numbers accepted on input only when they are safe integers); enums by name or number; field names in
// lowerCamelCase or proto snake_case.
import { fromBase64 } from "@xmtp-ts/crypto";
import type { Envelope, EnvelopePage, IndexCursor, SortDirection } from "../store/EnvelopeStore.js";
import { invalidArgument } from "../errors.js";
import { MAX_POSTAGE_PROOF_BYTES } from "@xmtp-ts/postage";

/** The reference node's limits (docs/protocol/api.md §2.2-§2.4). */
export const MAX_TOPIC_BYTES = 300;
export const MAX_MESSAGE_BYTES = 1_048_214;
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 100;
/** A query of one private-preferences (consent) topic may ask for this many rows (docs/protocol/api.md §2.3). */
export const MAX_PREFERENCES_PAGE_SIZE = 500;
const PREFERENCES_TOPIC_PREFIX = "/xmtp/0/userpreferences-";
export const MAX_BATCH_QUERIES = 50;
const MAX_UINT64 = (1n << 64n) - 1n;

export interface ParsedQuery {
  topic: string;
  startTimeNs?: bigint;
  endTimeNs?: bigint;
  limit: number;
  direction: SortDirection;
  cursor?: IndexCursor;
  /** The page's byte budget (EnvelopeQuery.maxBytes): never sent by clients, set by the HTTP layer before reading. */
  maxBytes?: number;
}

type JsonObject = Record<string, unknown>;

export function parseJsonBody(body: string): unknown {
  if (body.trim() === "") return {};
  try {
    return JSON.parse(body);
  } catch (error) {
    throw invalidArgument(`request body is not valid JSON: ${(error as Error).message}`);
  }
}

function asObject(value: unknown, path: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidArgument(`${path} must be a JSON object, got ${describe(value)}`);
  }
  return value as JsonObject;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

/** A field by its lowerCamelCase or snake_case name; null counts as absent (protojson). Both names at once is an error. */
function field(object: JsonObject, path: string, camel: string, snake?: string): unknown {
  const a = object[camel];
  const b = snake === undefined ? undefined : object[snake];
  if (a !== undefined && a !== null && b !== undefined && b !== null) {
    throw invalidArgument(`${join(path, camel)} is given twice (as ${camel} and ${snake})`);
  }
  return a ?? b ?? undefined;
}

const join = (path: string, name: string) => (path ? `${path}.${name}` : name);

function parseUint64(value: unknown, path: string): bigint {
  if (typeof value === "string") {
    if (!/^\d+$/.test(value)) throw invalidArgument(`${path} must be a non-negative decimal integer string, got ${describe(value)}`);
    const parsed = BigInt(value);
    if (parsed > MAX_UINT64) throw invalidArgument(`${path} exceeds the uint64 range`);
    return parsed;
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw invalidArgument(`${path} must be a non-negative safe integer (send larger values as decimal strings), got ${value}`);
    }
    return BigInt(value);
  }
  throw invalidArgument(`${path} must be a decimal string, got ${describe(value)}`);
}

function parseUint32(value: unknown, path: string): number {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw invalidArgument(`${path} must be a non-negative 32-bit integer, got ${describe(value)}`);
  }
  return n;
}

function parseBytes(value: unknown, path: string): Uint8Array {
  if (typeof value !== "string") throw invalidArgument(`${path} must be a base64 string, got ${describe(value)}`);
  try {
    return fromBase64(value);
  } catch (error) {
    throw invalidArgument(`${path} is not standard base64: ${(error as Error).message}`);
  }
}

function parseTopic(value: unknown, path: string): string {
  if (typeof value !== "string") throw invalidArgument(`${path} must be a string, got ${describe(value)}`);
  if (value.length === 0) throw invalidArgument(`${path} must not be empty`);
  if (Buffer.byteLength(value, "utf8") > MAX_TOPIC_BYTES) {
    throw invalidArgument(`${path} is longer than ${MAX_TOPIC_BYTES} bytes`);
  }
  return value;
}

function parseArray(value: unknown, path: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidArgument(`${path} must be an array, got ${describe(value)}`);
  return value;
}

export function decodeEnvelope(value: unknown, path: string): Envelope {
  const object = asObject(value, path);
  const contentTopic = parseTopic(field(object, path, "contentTopic", "content_topic") ?? "", join(path, "contentTopic"));
  const timestamp = field(object, path, "timestampNs", "timestamp_ns");
  const timestampNs = timestamp === undefined ? 0n : parseUint64(timestamp, join(path, "timestampNs"));
  const rawMessage = field(object, path, "message");
  const message = rawMessage === undefined ? new Uint8Array() : parseBytes(rawMessage, join(path, "message"));
  if (message.length === 0) throw invalidArgument(`${join(path, "message")} must not be empty`);
  if (message.length > MAX_MESSAGE_BYTES) {
    throw invalidArgument(`${join(path, "message")} is ${message.length} bytes, more than the ${MAX_MESSAGE_BYTES} allowed`);
  }
  const rawPostage = field(object, path, "postage");
  if (rawPostage === undefined) return { contentTopic, timestampNs, message };
  // An xmtp-ts extension (docs/postage.md §4): the envelope's postage proof. The public SDK never sends it.
  const postage = parseBytes(rawPostage, join(path, "postage"));
  if (postage.length > MAX_POSTAGE_PROOF_BYTES) {
    throw invalidArgument(`${join(path, "postage")} is ${postage.length} bytes, more than the ${MAX_POSTAGE_PROOF_BYTES} allowed`);
  }
  return postage.length > 0 ? { contentTopic, timestampNs, message, postage } : { contentTopic, timestampNs, message };
}

export function decodePublishRequest(body: unknown): Envelope[] {
  const request = asObject(body, "request");
  const list = parseArray(field(request, "", "envelopes"), "envelopes");
  if (list.length === 0) throw invalidArgument("envelopes must not be empty");
  return list.map((e, i) => decodeEnvelope(e, `envelopes[${i}]`));
}

function parseDirection(value: unknown, path: string): SortDirection {
  switch (value) {
    case undefined:
    case 0:
    case "SORT_DIRECTION_UNSPECIFIED":
    case 2:
    case "SORT_DIRECTION_DESCENDING":
      // The reference node reads a missing or unspecified direction as descending (docs/protocol/api.md §2.3).
      return "descending";
    case 1:
    case "SORT_DIRECTION_ASCENDING":
      return "ascending";
    default:
      throw invalidArgument(
        `${path} must be SORT_DIRECTION_ASCENDING, SORT_DIRECTION_DESCENDING (or 1, 2), got ${describe(value)}`,
      );
  }
}

function parseCursor(value: unknown, path: string): IndexCursor | undefined {
  if (value === undefined) return undefined;
  const cursor = asObject(value, path);
  const indexValue = field(cursor, path, "index");
  if (indexValue === undefined) return undefined;
  const indexPath = join(path, "index");
  const index = asObject(indexValue, indexPath);
  const digestValue = field(index, indexPath, "digest");
  const timeValue = field(index, indexPath, "senderTimeNs", "sender_time_ns");
  return {
    digest: digestValue === undefined ? new Uint8Array() : parseBytes(digestValue, join(indexPath, "digest")),
    senderTimeNs: timeValue === undefined ? 0n : parseUint64(timeValue, join(indexPath, "senderTimeNs")),
  };
}

export function decodeQueryRequest(body: unknown, path = ""): ParsedQuery {
  const request = asObject(body, path || "request");
  const topicsPath = join(path, "contentTopics");
  const topics = parseArray(field(request, path, "contentTopics", "content_topics"), topicsPath);
  if (topics.length === 0) throw invalidArgument(`${topicsPath} must name a content topic`);
  if (topics.length > 1) {
    throw invalidArgument(`${topicsPath} names ${topics.length} topics; a query takes exactly one (use batch-query for more)`);
  }
  const topic = parseTopic(topics[0], `${topicsPath}[0]`);
  const start = field(request, path, "startTimeNs", "start_time_ns");
  const end = field(request, path, "endTimeNs", "end_time_ns");
  const startTimeNs = start === undefined ? 0n : parseUint64(start, join(path, "startTimeNs"));
  const endTimeNs = end === undefined ? 0n : parseUint64(end, join(path, "endTimeNs"));

  const pagingPath = join(path, "pagingInfo");
  const pagingValue = field(request, path, "pagingInfo", "paging_info");
  const paging = pagingValue === undefined ? {} : asObject(pagingValue, pagingPath);
  const limitValue = field(paging, pagingPath, "limit");
  let limit = limitValue === undefined ? 0 : parseUint32(limitValue, join(pagingPath, "limit"));
  if (limit === 0) limit = DEFAULT_PAGE_SIZE;
  const maxLimit = topic.startsWith(PREFERENCES_TOPIC_PREFIX) ? MAX_PREFERENCES_PAGE_SIZE : MAX_PAGE_SIZE;
  if (limit > maxLimit) throw invalidArgument(`cannot exceed ${maxLimit} rows per query`);
  return {
    topic,
    // 0 means "no bound" in the wire format.
    startTimeNs: startTimeNs === 0n ? undefined : startTimeNs,
    endTimeNs: endTimeNs === 0n ? undefined : endTimeNs,
    limit,
    direction: parseDirection(field(paging, pagingPath, "direction"), join(pagingPath, "direction")),
    cursor: parseCursor(field(paging, pagingPath, "cursor"), join(pagingPath, "cursor")),
  };
}

export function decodeBatchQueryRequest(body: unknown): ParsedQuery[] {
  const request = asObject(body, "request");
  const list = parseArray(field(request, "", "requests"), "requests");
  if (list.length > MAX_BATCH_QUERIES) {
    throw invalidArgument(`cannot exceed ${MAX_BATCH_QUERIES} queries per batch, got ${list.length}`);
  }
  return list.map((q, i) => decodeQueryRequest(q, `requests[${i}]`));
}

export function decodeSubscribeRequest(body: unknown): string[] {
  const request = asObject(body, "request");
  const topics = parseArray(field(request, "", "contentTopics", "content_topics"), "contentTopics");
  if (topics.length === 0) throw invalidArgument("contentTopics must name at least one content topic");
  return topics.map((t, i) => parseTopic(t, `contentTopics[${i}]`));
}

/**
 * Each envelope's JSON, kept as long as the envelope object lives. Envelope objects are never modified once decoded
 * or read, and a store may hand out the same objects again for a hot page (SqliteEnvelopeStore's cache), so a page
 * read again costs no base64 or number formatting. Envelopes with messages over CACHED_JSON_MAX_MESSAGE_BYTES are
 * formatted afresh every time: their JSON (4/3 of the message) would otherwise stay in memory next to the message for
 * as long as anything holds the envelope, while a streamed answer needs it only until it is written.
 */
const envelopeJson = new WeakMap<Envelope, string>();
export const CACHED_JSON_MAX_MESSAGE_BYTES = 64 * 1024;

export function encodeEnvelope(envelope: Envelope): string {
  let json = envelopeJson.get(envelope);
  if (json === undefined) {
    json = formatEnvelope(envelope);
    if (envelope.message.byteLength <= CACHED_JSON_MAX_MESSAGE_BYTES) envelopeJson.set(envelope, json);
  }
  return json;
}

/** The envelope's JSON, made afresh (for callers that keep their own encoding, like the stream lines). */
export function formatEnvelope(envelope: Envelope): string {
  return (
    `{"contentTopic":${JSON.stringify(envelope.contentTopic)},"timestampNs":"${envelope.timestampNs}",` +
    `"message":"${base64Of(envelope.message)}"}`
  );
}

/** Standard padded base64 by Node's native encoder (same output as @xmtp-ts/crypto's portable toBase64). */
function base64Of(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

const DIRECTION_NAME: Record<SortDirection, string> = {
  ascending: "SORT_DIRECTION_ASCENDING",
  descending: "SORT_DIRECTION_DESCENDING",
};

// A QueryResponse is written as QUERY_RESPONSE_HEAD, the envelopes' JSON separated by commas, then
// encodeQueryResponseTail(); a BatchQueryResponse as BATCH_RESPONSE_HEAD, the QueryResponses separated by commas, then
// BATCH_RESPONSE_TAIL. The HTTP layer streams large answers piece by piece in exactly these bytes.
export const QUERY_RESPONSE_HEAD = '{"envelopes":[';
export const BATCH_RESPONSE_HEAD = '{"responses":[';
export const BATCH_RESPONSE_TAIL = "]}";

/** What follows a QueryResponse's last envelope: the end of the list and the paging info. */
export function encodeQueryResponseTail(page: EnvelopePage, query: ParsedQuery): string {
  const cursor = page.cursor
    ? `{"index":{"digest":"${base64Of(page.cursor.digest)}","senderTimeNs":"${page.cursor.senderTimeNs}"}}`
    : "null";
  return `],"pagingInfo":{"limit":${query.limit},"cursor":${cursor},"direction":"${DIRECTION_NAME[query.direction]}"}}`;
}

export function encodeQueryResponse(page: EnvelopePage, query: ParsedQuery): string {
  let out = QUERY_RESPONSE_HEAD;
  for (let i = 0; i < page.envelopes.length; i++) {
    if (i > 0) out += ",";
    out += encodeEnvelope(page.envelopes[i]);
  }
  return out + encodeQueryResponseTail(page, query);
}

export function encodeBatchQueryResponse(responses: string[]): string {
  return `${BATCH_RESPONSE_HEAD}${responses.join(",")}${BATCH_RESPONSE_TAIL}`;
}

export function encodeError(code: number, message: string, details: unknown[] = []): string {
  return JSON.stringify({ code, message, details });
}
