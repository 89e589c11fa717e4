// Rows as both stores read them (better-sqlite3 and pg name columns alike) and the records made from them.
import { timestampFromColumn, type Delivery, type DeliveryState, type Installation } from "./NotifyStore.js";

export interface DeliveryRow {
  seq: number | string;
  installation_id: string;
  digest: string;
  topic: string;
  timestamp_ns: string;
  message: Buffer;
  state: DeliveryState;
  attempts: number;
  next_attempt_at_ms: number | string;
  last_error: string | null;
  created_at_ms: number | string;
  updated_at_ms: number | string;
}

export interface InstallationRow {
  id: string;
  access_key_hash: string;
  target_kind: string;
  target: string;
  secret: string;
  created_at_ms: number | string;
}

export function deliveryFromRow(row: DeliveryRow): Delivery {
  return {
    seq: Number(row.seq),
    installationId: row.installation_id,
    envelope: {
      topic: row.topic,
      timestampNs: timestampFromColumn(row.timestamp_ns),
      message: new Uint8Array(row.message),
      digest: row.digest,
    },
    state: row.state,
    attempts: Number(row.attempts),
    nextAttemptAtMs: Number(row.next_attempt_at_ms),
    lastError: row.last_error,
    createdAtMs: Number(row.created_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
  };
}

export function installationFromRow(row: InstallationRow): Installation {
  return {
    id: row.id,
    accessKeyHash: row.access_key_hash,
    target: JSON.parse(row.target),
    secret: row.secret,
    createdAtMs: Number(row.created_at_ms),
  };
}
