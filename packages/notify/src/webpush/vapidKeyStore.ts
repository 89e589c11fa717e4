// The service's VAPID key pair lives in its store, made on first start. Browsers subscribe with its public key and
// push services accept only tokens signed by the matching private key, so losing or changing it silently ends
// every Web Push subscription: it must travel with the data (backups, a move to another machine).
import type { NotifyStore } from "../store/NotifyStore.js";
import { generateVapidKeys, vapidKeysFromPrivateKey, type VapidKeys } from "./vapid.js";

export const VAPID_KEY_NAME = "vapid-private-key";

export async function loadVapidKeys(store: NotifyStore): Promise<VapidKeys> {
  const candidate = Buffer.from(generateVapidKeys().privateKey).toString("base64url");
  const stored = await store.ensureServiceKey(VAPID_KEY_NAME, candidate);
  return vapidKeysFromPrivateKey(Buffer.from(stored, "base64url"));
}
