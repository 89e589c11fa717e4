// PostageLedger on PostgreSQL. Voucher acceptance locks the payer's row (SELECT … FOR UPDATE) inside a transaction,
// so node processes sharing the database cannot both accept two vouchers on the same previous one.
import type pg from "pg";
import { asUint8Array } from "./driverBytes.js";
import { inTransaction, poolQuery } from "./postgresPool.js";
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

/** The statements of schema version 3 (see MIGRATIONS in postgres.ts). numeric(78,0) holds any uint256. */
export const POSTGRES_POSTAGE_SCHEMA = [
  "CREATE TABLE postage_proofs (digest bytea PRIMARY KEY, proof bytea NOT NULL)",
  `CREATE TABLE postage_relationships (
     inviter text NOT NULL, invitee text NOT NULL, at_ns numeric(20,0) NOT NULL, PRIMARY KEY (inviter, invitee)
   )`,
  `CREATE TABLE postage_vouchers (
     operator text NOT NULL, payer text NOT NULL, cumulative numeric(78,0) NOT NULL, digest bytea NOT NULL,
     signature bytea NOT NULL, accepted_at_ns numeric(20,0) NOT NULL, redeemed numeric(78,0) NOT NULL DEFAULT 0,
     PRIMARY KEY (operator, payer)
   )`,
];

/** Inserts the proofs of newly stored envelopes, in the append's own transaction. */
export async function insertProofs(client: pg.PoolClient, proofs: Array<{ digest: Uint8Array; proof: Uint8Array }>): Promise<void> {
  if (proofs.length === 0) return;
  await client.query(
    `INSERT INTO postage_proofs (digest, proof) SELECT * FROM unnest($1::bytea[], $2::bytea[]) ON CONFLICT (digest) DO NOTHING`,
    [proofs.map((p) => p.digest), proofs.map((p) => p.proof)],
  );
}


export class PostgresPostageLedger implements PostageLedger {
  constructor(private readonly pool: pg.Pool) {}

  async readProofs(digests: readonly Uint8Array[]): Promise<Map<string, Uint8Array>> {
    const proofs = new Map<string, Uint8Array>();
    if (digests.length === 0) return proofs;
    const result = await poolQuery<{ digest: Buffer; proof: Buffer }>(this.pool, "read", {
      text: "SELECT digest, proof FROM postage_proofs WHERE digest = ANY($1::bytea[])",
      values: [digests.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength))],
    });
    for (const row of result.rows) proofs.set(row.digest.toString("hex"), asUint8Array(row.proof));
    return proofs;
  }

  async recordRelationships(relationships: readonly Relationship[]): Promise<void> {
    if (relationships.length === 0) return;
    await poolQuery(this.pool, "write", {
      text: `INSERT INTO postage_relationships (inviter, invitee, at_ns)
             SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[]) ON CONFLICT DO NOTHING`,
      values: [
        relationships.map((r) => ledgerAddress(r.inviter)),
        relationships.map((r) => ledgerAddress(r.invitee)),
        relationships.map((r) => r.atNs.toString()),
      ],
    });
  }

  async hasRelationship(inviter: string, invitee: string): Promise<boolean> {
    const result = await poolQuery(this.pool, "read", {
      text: "SELECT 1 FROM postage_relationships WHERE inviter = $1 AND invitee = $2",
      values: [ledgerAddress(inviter), ledgerAddress(invitee)],
    });
    return result.rowCount === 1;
  }

  acceptVoucher(voucher: NewVoucher, minIncrease: bigint, nowNs: bigint): Promise<VoucherAcceptance> {
    const operator = ledgerAddress(voucher.operator);
    const payer = ledgerAddress(voucher.payer);
    return inTransaction(this.pool, "write", async (client) => {
      // A payer's first voucher has no row to lock: the insert's conflict refuses the loser of a race.
      const last = await client.query<VoucherRow>(
        "SELECT * FROM postage_vouchers WHERE operator = $1 AND payer = $2 FOR UPDATE",
        [operator, payer],
      );
      const row = last.rows[0];
      const verdict = judgeVoucher(row && { cumulative: BigInt(row.cumulative), digest: row.digest }, voucher, minIncrease);
      if (verdict !== "store") return verdict;
      const values = [operator, payer, voucher.cumulative.toString(), voucher.digest, voucher.signature, nowNs.toString()];
      if (row) {
        await client.query(
          `UPDATE postage_vouchers SET cumulative = $3, digest = $4, signature = $5, accepted_at_ns = $6
            WHERE operator = $1 AND payer = $2`,
          values,
        );
        return { accepted: true, retry: false };
      }
      const inserted = await client.query(
        `INSERT INTO postage_vouchers (operator, payer, cumulative, digest, signature, accepted_at_ns)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        values,
      );
      // Another process inserted this payer's first voucher meanwhile: ours was made on no previous one, refuse it.
      if (inserted.rowCount !== 1) return { accepted: false, lastCumulative: 0n };
      return { accepted: true, retry: false };
    }) as Promise<VoucherAcceptance>;
  }

  async lastVoucher(operator: string, payer: string): Promise<AcceptedVoucher | undefined> {
    const result = await poolQuery<VoucherRow>(this.pool, "read", {
      text: "SELECT * FROM postage_vouchers WHERE operator = $1 AND payer = $2",
      values: [ledgerAddress(operator), ledgerAddress(payer)],
    });
    return result.rows[0] && voucherFromRow(result.rows[0]);
  }

  async unredeemedVouchers(operator: string): Promise<AcceptedVoucher[]> {
    const result = await poolQuery<VoucherRow>(this.pool, "read", {
      text: "SELECT * FROM postage_vouchers WHERE operator = $1 AND cumulative > redeemed ORDER BY payer",
      values: [ledgerAddress(operator)],
    });
    return result.rows.map(voucherFromRow);
  }

  async markRedeemed(operator: string, payer: string, cumulative: bigint): Promise<void> {
    await poolQuery(this.pool, "write", {
      text: "UPDATE postage_vouchers SET redeemed = $3 WHERE operator = $1 AND payer = $2 AND redeemed < $3",
      values: [ledgerAddress(operator), ledgerAddress(payer), cumulative.toString()],
    });
  }
}
