// PostageLedger on the SQLite store's connection. better-sqlite3 is synchronous, so each read-compare-write runs in
// one transaction with nothing interleaved; vouchers are made durable by the store's own WAL flush before resolving.
import type Database from "better-sqlite3";
import { asUint8Array } from "./driverBytes.js";
import { asSqliteFault } from "./sqliteFaults.js";
import {
  ledgerAddress,
  type AcceptedVoucher,
  type NewVoucher,
  type PostageLedger,
  type Relationship,
  type VoucherAcceptance,
  type VoucherRow,
  judgeVoucher,
  voucherFromRow,
} from "./postageLedger.js";

/** Tables of schema version 2 (see SQLITE_MIGRATIONS). Amounts are decimal text: uint256 does not fit an INTEGER. */
export const SQLITE_POSTAGE_SCHEMA = `
CREATE TABLE IF NOT EXISTS postage_proofs (digest BLOB PRIMARY KEY, proof BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS postage_relationships (
  inviter TEXT NOT NULL, invitee TEXT NOT NULL, at_ns TEXT NOT NULL, PRIMARY KEY (inviter, invitee)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS postage_vouchers (
  operator TEXT NOT NULL, payer TEXT NOT NULL, cumulative TEXT NOT NULL, digest BLOB NOT NULL, signature BLOB NOT NULL,
  accepted_at_ns TEXT NOT NULL, redeemed TEXT NOT NULL DEFAULT '0', PRIMARY KEY (operator, payer)
) WITHOUT ROWID;
`;


/** SQLite takes at most 32,766 parameters; proof lookups are chunked well below it. */
const PROOF_LOOKUP_CHUNK = 500;

export class SqlitePostageLedger implements PostageLedger {
  private readonly selectVoucher;
  private readonly upsertVoucher;

  constructor(
    private readonly db: Database.Database,
    /** Resolves once what was committed is on disk (the store's WAL flush). */
    private readonly durable: () => Promise<void>,
  ) {
    this.selectVoucher = db.prepare<[string, string], VoucherRow>(
      "SELECT * FROM postage_vouchers WHERE operator = ? AND payer = ?",
    );
    this.upsertVoucher = db.prepare(
      `INSERT INTO postage_vouchers (operator, payer, cumulative, digest, signature, accepted_at_ns)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (operator, payer) DO UPDATE SET cumulative = excluded.cumulative, digest = excluded.digest,
         signature = excluded.signature, accepted_at_ns = excluded.accepted_at_ns`,
    );
  }

  async readProofs(digests: readonly Uint8Array[]): Promise<Map<string, Uint8Array>> {
    const proofs = new Map<string, Uint8Array>();
    try {
      for (let i = 0; i < digests.length; i += PROOF_LOOKUP_CHUNK) {
        const chunk = digests.slice(i, i + PROOF_LOOKUP_CHUNK);
        const rows = this.db
          .prepare(`SELECT digest, proof FROM postage_proofs WHERE digest IN (${chunk.map(() => "?").join(",")})`)
          .all(...chunk) as Array<{ digest: Buffer; proof: Buffer }>;
        for (const row of rows) proofs.set(row.digest.toString("hex"), asUint8Array(row.proof));
      }
    } catch (error) {
      throw asSqliteFault(error, "read");
    }
    return proofs;
  }

  async recordRelationships(relationships: readonly Relationship[]): Promise<void> {
    if (relationships.length === 0) return;
    const insert = this.db.prepare("INSERT OR IGNORE INTO postage_relationships (inviter, invitee, at_ns) VALUES (?, ?, ?)");
    // Not flushed on its own: the store's next WAL flush (with postage required, that of the very envelope that
    // proved the relationship, appended right after) makes it durable. A crash before then loses the record only:
    // a later reply between the two pays or needs a grant, nothing is lost that was acknowledged.
    this.write(() => {
      for (const r of relationships) insert.run(ledgerAddress(r.inviter), ledgerAddress(r.invitee), r.atNs.toString());
    });
  }

  async hasRelationship(inviter: string, invitee: string): Promise<boolean> {
    try {
      return (
        this.db
          .prepare("SELECT 1 FROM postage_relationships WHERE inviter = ? AND invitee = ?")
          .get(ledgerAddress(inviter), ledgerAddress(invitee)) !== undefined
      );
    } catch (error) {
      throw asSqliteFault(error, "read");
    }
  }

  async acceptVoucher(voucher: NewVoucher, minIncrease: bigint, nowNs: bigint): Promise<VoucherAcceptance> {
    const operator = ledgerAddress(voucher.operator);
    const payer = ledgerAddress(voucher.payer);
    const outcome = this.write((): VoucherAcceptance => {
      const last = this.selectVoucher.get(operator, payer);
      const verdict = judgeVoucher(last && { cumulative: BigInt(last.cumulative), digest: last.digest }, voucher, minIncrease);
      if (verdict !== "store") return verdict;
      this.upsertVoucher.run(operator, payer, voucher.cumulative.toString(), voucher.digest, voucher.signature, nowNs.toString());
      return { accepted: true, retry: false };
    });
    if (outcome.accepted && !outcome.retry) await this.durable();
    return outcome;
  }

  async lastVoucher(operator: string, payer: string): Promise<AcceptedVoucher | undefined> {
    try {
      const row = this.selectVoucher.get(ledgerAddress(operator), ledgerAddress(payer));
      return row && voucherFromRow(row);
    } catch (error) {
      throw asSqliteFault(error, "read");
    }
  }

  async unredeemedVouchers(operator: string): Promise<AcceptedVoucher[]> {
    try {
      const rows = this.db.prepare("SELECT * FROM postage_vouchers WHERE operator = ?").all(ledgerAddress(operator)) as VoucherRow[];
      return rows.map(voucherFromRow).filter((v) => v.cumulative > v.redeemed);
    } catch (error) {
      throw asSqliteFault(error, "read");
    }
  }

  async markRedeemed(operator: string, payer: string, cumulative: bigint): Promise<void> {
    const select = this.db.prepare<[string, string], { redeemed: string }>(
      "SELECT redeemed FROM postage_vouchers WHERE operator = ? AND payer = ?",
    );
    const update = this.db.prepare("UPDATE postage_vouchers SET redeemed = ? WHERE operator = ? AND payer = ?");
    this.write(() => {
      const row = select.get(ledgerAddress(operator), ledgerAddress(payer));
      if (row && BigInt(row.redeemed) < cumulative) update.run(cumulative.toString(), ledgerAddress(operator), ledgerAddress(payer));
    });
    await this.durable();
  }

  private write<T>(work: () => T): T {
    try {
      return this.db.transaction(work).immediate();
    } catch (error) {
      throw asSqliteFault(error, "write");
    }
  }
}
