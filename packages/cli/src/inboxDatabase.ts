// Where the CLI keeps each inbox between commands: an encrypted database (@xmtp-ts/client's `dbPath`) beside the
// key file, one per identity and network, so `xmtp list` and `xmtp read` ask the node only for what is new.
import { dirname, join } from "node:path";

/** A file name for a node URL: its host and port, with anything unusual replaced. */
function networkSlug(apiUrl: string): string {
  let host: string;
  try {
    const url = new URL(apiUrl);
    host = url.port ? `${url.hostname}_${url.port}` : url.hostname;
  } catch {
    host = apiUrl;
  }
  return host.replace(/[^A-Za-z0-9.-]/g, "_").slice(0, 100) || "network";
}

/** `<key file's folder>/inbox/<address>@<host_port>.db`. */
export function inboxDatabaseFor(keyFile: string, address: string, apiUrl: string): string {
  return join(dirname(keyFile), "inbox", `${address}@${networkSlug(apiUrl)}.db`);
}
