// The topic → peer map the service worker names notifications with. The worker cannot decrypt anything (the keys
// stay in the page), so the page writes, for each topic it subscribes, who the conversation is with; the worker only
// reads. IndexedDB because it is the storage both a page and a service worker can use. Plain IndexedDB, no
// imports: the service worker bundle stays small.
import type { PushLabel } from "./push.js";

const DATABASE = "xmtp-chat-push";
const STORE = "topics";

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function open(): Promise<IDBDatabase> {
  const req = indexedDB.open(DATABASE, 1);
  req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "topic" });
  return request(req);
}

async function inStore<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T> | undefined): Promise<T | undefined> {
  const db = await open();
  try {
    const transaction = db.transaction(STORE, mode);
    const done = new Promise<void>((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
    const req = work(transaction.objectStore(STORE));
    const result = req ? await request(req) : undefined;
    await done;
    return result;
  } finally {
    db.close();
  }
}

/** Writes (or rewrites) the labels of these topics; the others are kept. */
export async function savePushLabels(labels: readonly PushLabel[]): Promise<void> {
  if (labels.length === 0) return;
  await inStore("readwrite", (store) => {
    for (const label of labels) store.put({ ...label });
    return undefined;
  });
}

/** The label of `topic`, if the app wrote one. */
export async function readPushLabel(topic: string): Promise<PushLabel | undefined> {
  const found = await inStore("readonly", (store) => store.get(topic) as IDBRequest<PushLabel | undefined>);
  return found ?? undefined;
}

/** Forgets every label (notifications were turned off, or the user disconnected). */
export async function clearPushLabels(): Promise<void> {
  await inStore("readwrite", (store) => store.clear());
}
