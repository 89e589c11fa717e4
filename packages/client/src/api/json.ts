// The grpc-gateway JSON mapping of the message API (docs/protocol/api.md §2.1): lowerCamelCase names, bytes as standard
// padded base64, uint64 as decimal strings, enums by name. Requests are checked before sending so bad input fails here
// with the name of the offending field; responses are read strictly enough that a broken node cannot smuggle in
// garbage.
import { XmtpClientError } from "../errors/XmtpClientError.js";
import { fromBase64, toBase64 } from "@xmtp-ts/crypto";
import type { Cursor, Envelope, QueryPage, QueryParams, SortDirection } from "./types.js";

export const MAX_PAGE_SIZE = 100;
const UINT64_MAX = (1n << 64n) - 1n;

const DIRECTION_NAMES: Record<SortDirection, string> = {
  ascending: "SORT_DIRECTION_ASCENDING",
  descending: "SORT_DIRECTION_DESCENDING",
};

export interface EnvelopeJson {
  contentTopic: string;
  timestampNs: string;
  message: string;
  /** Base64 PostageProof, an xmtp-ts extension (docs/postage.md §4); sent only when the envelope has one. */
  postage?: string;
}

export interface QueryRequestJson {
  contentTopics: string[];
  startTimeNs?: string;
  endTimeNs?: string;
  pagingInfo: {
    limit: number;
    direction?: string;
    cursor?: { index: { digest: string; senderTimeNs: string } };
  };
}

/** A response that does not follow the wire format; the caller turns it into an ApiError. */
export class ResponseShapeError extends XmtpClientError {
  readonly code = "malformed_response";
}

function checkTopic(topic: unknown, name: string): string {
  if (typeof topic !== "string" || topic.length === 0) {
    throw new TypeError(`${name} must be a non-empty string, got ${describe(topic)}`);
  }
  return topic;
}

function checkUint64(value: unknown, name: string): string {
  if (typeof value !== "bigint" || value < 0n || value > UINT64_MAX) {
    throw new TypeError(`${name} must be a bigint between 0 and 2^64-1, got ${describe(value)}`);
  }
  return value.toString();
}

function describe(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  if (typeof value === "number") return `the number ${value}`;
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}

export function envelopeToJson(envelope: Envelope, name: string): EnvelopeJson {
  if (typeof envelope !== "object" || envelope === null) throw new TypeError(`${name} must be an envelope object`);
  const contentTopic = checkTopic(envelope.contentTopic, `${name}.contentTopic`);
  const timestampNs = checkUint64(envelope.timestampNs, `${name}.timestampNs`);
  if (!(envelope.message instanceof Uint8Array) || envelope.message.length === 0) {
    throw new TypeError(`${name}.message must be a non-empty Uint8Array, got ${describe(envelope.message)}`);
  }
  const json: EnvelopeJson = { contentTopic, timestampNs, message: toBase64(envelope.message) };
  if (envelope.postage !== undefined) {
    if (!(envelope.postage instanceof Uint8Array) || envelope.postage.length === 0) {
      throw new TypeError(`${name}.postage must be a non-empty Uint8Array when set, got ${describe(envelope.postage)}`);
    }
    json.postage = toBase64(envelope.postage);
  }
  return json;
}

export function checkPageSize(pageSize: unknown, name: string): number {
  if (!Number.isInteger(pageSize) || (pageSize as number) < 1 || (pageSize as number) > MAX_PAGE_SIZE) {
    throw new RangeError(`${name} must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${describe(pageSize)}`);
  }
  return pageSize as number;
}

export function queryToJson(params: QueryParams, name: string): QueryRequestJson {
  if (typeof params !== "object" || params === null) throw new TypeError(`${name} must be a query object`);
  const request: QueryRequestJson = {
    contentTopics: [checkTopic(params.contentTopic, `${name}.contentTopic`)],
    pagingInfo: { limit: MAX_PAGE_SIZE, direction: DIRECTION_NAMES.ascending },
  };
  if (params.startTimeNs !== undefined) request.startTimeNs = checkUint64(params.startTimeNs, `${name}.startTimeNs`);
  if (params.endTimeNs !== undefined) request.endTimeNs = checkUint64(params.endTimeNs, `${name}.endTimeNs`);
  if (params.pageSize !== undefined) request.pagingInfo.limit = checkPageSize(params.pageSize, `${name}.pageSize`);
  if (params.direction === "unspecified") delete request.pagingInfo.direction;
  else if (params.direction !== undefined) {
    if (typeof params.direction !== "string" || !Object.hasOwn(DIRECTION_NAMES, params.direction)) {
      throw new TypeError(
        `${name}.direction must be "ascending", "descending" or "unspecified", got ${describe(params.direction)}`,
      );
    }
    request.pagingInfo.direction = DIRECTION_NAMES[params.direction];
  }
  if (params.cursor !== undefined) {
    const { digest, senderTimeNs } = params.cursor;
    if (!(digest instanceof Uint8Array)) {
      throw new TypeError(`${name}.cursor.digest must be a Uint8Array, got ${describe(digest)}`);
    }
    request.pagingInfo.cursor = {
      index: { digest: toBase64(digest), senderTimeNs: checkUint64(senderTimeNs, `${name}.cursor.senderTimeNs`) },
    };
  }
  return request;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A protojson uint64: a decimal string (what nodes send) or, leniently, a safe non-negative integer. */
function readUint64(value: unknown, name: string): bigint {
  if (value === undefined || value === null) return 0n;
  if (typeof value === "string" && /^\d{1,20}$/.test(value)) {
    const parsed = BigInt(value);
    if (parsed <= UINT64_MAX) return parsed;
  }
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new ResponseShapeError(`${name} is not a uint64 decimal string: ${describe(value)}`);
}

function readBytes(value: unknown, name: string): Uint8Array {
  if (value === undefined || value === null) return new Uint8Array(0);
  if (typeof value !== "string") throw new ResponseShapeError(`${name} is not a base64 string: ${describe(value)}`);
  try {
    return fromBase64(value);
  } catch (error) {
    throw new ResponseShapeError(`${name}: ${(error as Error).message}`);
  }
}

function readString(value: unknown, name: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw new ResponseShapeError(`${name} is not a string: ${describe(value)}`);
  return value;
}

/**
 * Reads an Envelope. Unset fields may be left out (protojson omits defaults), so a missing field reads as its
 * default; a field of the wrong type is an error.
 */
export function envelopeFromJson(value: unknown, name: string): Envelope {
  if (!isObject(value)) throw new ResponseShapeError(`${name} is not an object`);
  return {
    contentTopic: readString(value.contentTopic ?? value.content_topic, `${name}.contentTopic`),
    timestampNs: readUint64(value.timestampNs ?? value.timestamp_ns, `${name}.timestampNs`),
    message: readBytes(value.message, `${name}.message`),
  };
}

function cursorFromJson(value: unknown, name: string): Cursor | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new ResponseShapeError(`${name} is not an object`);
  const index = value.index;
  if (index === undefined || index === null) return undefined;
  if (!isObject(index)) throw new ResponseShapeError(`${name}.index is not an object`);
  return {
    digest: readBytes(index.digest, `${name}.index.digest`),
    senderTimeNs: readUint64(index.senderTimeNs ?? index.sender_time_ns, `${name}.index.senderTimeNs`),
  };
}

export function queryResponseFromJson(value: unknown, name: string): QueryPage {
  if (!isObject(value)) throw new ResponseShapeError(`${name} is not an object`);
  const envelopesJson = value.envelopes;
  if (envelopesJson !== undefined && envelopesJson !== null && !Array.isArray(envelopesJson)) {
    throw new ResponseShapeError(`${name}.envelopes is not an array`);
  }
  const envelopes = (envelopesJson ?? []).map((envelope: unknown, i: number) =>
    envelopeFromJson(envelope, `${name}.envelopes[${i}]`),
  );
  const pagingInfo = value.pagingInfo ?? value.paging_info;
  if (pagingInfo !== undefined && pagingInfo !== null && !isObject(pagingInfo)) {
    throw new ResponseShapeError(`${name}.pagingInfo is not an object`);
  }
  const cursor = pagingInfo ? cursorFromJson(pagingInfo.cursor, `${name}.pagingInfo.cursor`) : undefined;
  return cursor ? { envelopes, cursor } : { envelopes };
}
