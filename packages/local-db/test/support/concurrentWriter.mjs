// A second (and third) process using one SQLite store at the same time as the test: it writes its own records, one
// write() each and in batches, reads each back at once, then waits until it sees every record of every writer.
// Runs the built package (dist/), as a CLI user's second `xmtp` process would.
//
//   node concurrentWriter.mjs <path> <key hex> <writer name> <records to write> <records expected in total>
import { openSqliteDatabase } from "../../dist/index.js";

const [path, keyHex, name, countText, totalText] = process.argv.slice(2);
const count = Number(countText);
const total = Number(totalText);
const key = Uint8Array.from(Buffer.from(keyHex, "hex"));
const valueOf = (writer, i) => new TextEncoder().encode(`${writer}:${i}:`.padEnd(64 + (i % 7) * 50, "."));

const db = await openSqliteDatabase({ path, key });
try {
  for (let i = 0; i < count; ) {
    // Every fourth write is a batch of three puts; the others a single put.
    const batch = i % 4 === 3 ? Math.min(3, count - i) : 1;
    const writes = Array.from({ length: batch }, (_, j) => ({
      type: "put",
      collection: "shared",
      key: `${name}-${i + j}`,
      value: valueOf(name, i + j),
      order: BigInt(i + j),
    }));
    await db.write(writes);
    const readBack = await db.get("shared", `${name}-${i}`);
    if (!readBack || Buffer.compare(Buffer.from(readBack), Buffer.from(valueOf(name, i))) !== 0) {
      throw new Error(`${name}: record ${i} did not read back right after its write`);
    }
    if (i % 10 === 0) await db.list("shared", { descending: true, limit: 20 });
    i += batch;
  }
  const deadline = Date.now() + 30_000;
  let seen = 0;
  while ((seen = (await db.list("shared")).length) < total) {
    if (Date.now() > deadline) throw new Error(`${name}: saw ${seen} of ${total} records after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  process.stdout.write(JSON.stringify({ name, wrote: count, seen }));
} finally {
  await db.close();
}
