// The resume state of a broadcast as data: one record per recipient, and its JSON form (checked when read back).
import { BroadcastStateError } from "./errors.js";

export const BROADCAST_STATE_FORMAT = "xmtp-ts/broadcast-state";
export const BROADCAST_STATE_VERSION = 1;

/**
 * One recipient's outcome. `pending`: a send was started at `sentAtMs` (the message's own sent time, chosen before the
 * send and written down first) and its outcome is not known; `attemptedAt` is when (this machine's clock).
 */
export type RecipientRecord =
  | { status: "sent"; at: number }
  | { status: "pending"; sentAtMs: number; attemptedAt: number }
  | { status: "not_on_network"; at: number }
  | { status: "failed"; at: number; reason: string; code?: string | number };

export interface BroadcastState {
  broadcastId: string;
  /** The sending wallet. */
  sender: string;
  /** sha256 of the EncodedContent bytes, hex: a resume with other content is refused. */
  contentSha256: string;
  createdAt: string;
  recipients: Map<string, RecipientRecord>;
}

export function stateToJson(state: BroadcastState): string {
  return JSON.stringify({
    format: BROADCAST_STATE_FORMAT,
    version: BROADCAST_STATE_VERSION,
    broadcastId: state.broadcastId,
    sender: state.sender,
    contentSha256: state.contentSha256,
    createdAt: state.createdAt,
    updatedAt: new Date().toISOString(),
    recipients: Object.fromEntries(state.recipients),
  });
}

function fail(where: string, problem: string): never {
  throw new BroadcastStateError(`the broadcast state ${where} is not usable: ${problem}`);
}

export function isRecord(value: unknown): value is RecipientRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  switch (r.status) {
    case "sent":
    case "not_on_network":
      return typeof r.at === "number";
    case "pending":
      return typeof r.sentAtMs === "number" && Number.isSafeInteger(r.sentAtMs) && typeof r.attemptedAt === "number";
    case "failed":
      return typeof r.at === "number" && typeof r.reason === "string";
    default:
      return false;
  }
}

export function stateFromJson(text: string, where: string): BroadcastState {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    fail(where, "not JSON (a damaged file?)");
  }
  if (typeof json !== "object" || json === null || json.format !== BROADCAST_STATE_FORMAT) fail(where, "not a broadcast state");
  if (json.version !== BROADCAST_STATE_VERSION) fail(where, `version ${String(json.version)}, this client reads ${BROADCAST_STATE_VERSION}`);
  for (const field of ["broadcastId", "sender", "contentSha256", "createdAt"] as const) {
    if (typeof json[field] !== "string") fail(where, `${field} is missing`);
  }
  const recipients = new Map<string, RecipientRecord>();
  const raw = json.recipients;
  if (typeof raw !== "object" || raw === null) fail(where, "recipients is missing");
  for (const [address, record] of Object.entries(raw)) {
    if (!isRecord(record)) fail(where, `the record of ${address} is malformed`);
    recipients.set(address, record);
  }
  return {
    broadcastId: json.broadcastId as string,
    sender: json.sender as string,
    contentSha256: json.contentSha256 as string,
    createdAt: json.createdAt as string,
    recipients,
  };
}

/** One change as a line of the state file's journal (stateStore.ts): the recipient and its new record. */
export function changeToJsonLine(address: string, record: RecipientRecord): string {
  return JSON.stringify({ recipient: address, record }) + "\n";
}

/** Reads one journal line back; undefined when it is not a well-formed change. */
export function changeFromJsonLine(line: string): [string, RecipientRecord] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof json !== "object" || json === null) return undefined;
  const { recipient, record } = json as Record<string, unknown>;
  return typeof recipient === "string" && isRecord(record) ? [recipient, record] : undefined;
}
