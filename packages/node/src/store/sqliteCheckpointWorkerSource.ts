// The checkpoint worker: a second connection to the same file, in its own thread. PASSIVE never waits for (or
// blocks) the node's writes and reads; with synchronous=NORMAL it fsyncs the WAL before copying and the database
// file after, so acknowledged envelopes stay durable when the WAL is later reused.
//
// Why a string and not a module: a worker is started from a file path or from source. The node runs from its
// TypeScript sources under vitest (where a .ts worker file would need a loader registered in the worker) and from
// dist/ (where it would need the compiled .js next to this one). Plain CommonJS source run with `eval: true` runs
// the same in both; it gets the driver's resolved path and the database path in workerData.
export const CHECKPOINT_WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driverPath);
const db = new Database(workerData.databasePath, { fileMustExist: true });
db.pragma("busy_timeout = 5000");
db.pragma("synchronous = NORMAL");
parentPort.on("message", (message) => {
  if (message === "close") {
    db.close();
    parentPort.close();
    return;
  }
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
    parentPort.postMessage({ ok: true });
  } catch {
    parentPort.postMessage({ ok: false });
  }
});
`;
