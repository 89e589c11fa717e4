// A browser wallet's XMTP keys kept between visits, so that a reload does not ask the wallet to sign again. The key
// bundle (what the client exports for `privateKeyOverride`; not the wallet's own key, which the app never sees) is
// encrypted with AES-256-GCM under a key WebCrypto made non-extractable: IndexedDB holds the key object and the
// ciphertext, and no script, this page's included, can read the key's bytes. Disconnecting deletes both.
const DATABASE = "xmtp-chat-keys";
const STORE = "bundles";

interface VaultEntry {
  key: CryptoKey;
  iv: Uint8Array<ArrayBuffer>;
  ciphertext: ArrayBuffer;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error("IndexedDB request failed"));
  });
}

async function withStore<T>(mode: IDBTransactionMode, use: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const open = indexedDB.open(DATABASE, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  const db = await request(open);
  try {
    return await request(use(db.transaction(STORE, mode).objectStore(STORE)));
  } finally {
    db.close();
  }
}

/** The entry of a wallet on a node: keys are per network. */
function entryName(address: string, apiUrl: string): string {
  return `${address}:${apiUrl}`;
}

export async function saveKeyBundle(address: string, apiUrl: string, bundle: Uint8Array): Promise<void> {
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, new Uint8Array(bundle));
  const entry: VaultEntry = { key, iv, ciphertext };
  await withStore("readwrite", (store) => store.put(entry, entryName(address, apiUrl)));
}

/** The saved bundle, or undefined if there is none or it cannot be read (then the wallet signs in again). */
export async function loadKeyBundle(address: string, apiUrl: string): Promise<Uint8Array | undefined> {
  try {
    const entry = (await withStore("readonly", (store) => store.get(entryName(address, apiUrl)))) as VaultEntry | undefined;
    if (!entry) return undefined;
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: entry.iv }, entry.key, entry.ciphertext);
    return new Uint8Array(plain);
  } catch {
    return undefined;
  }
}

export async function forgetKeyBundle(address: string, apiUrl: string): Promise<void> {
  try {
    await withStore("readwrite", (store) => store.delete(entryName(address, apiUrl)));
  } catch {
    // Nothing saved, or storage blocked: nothing to forget.
  }
}
