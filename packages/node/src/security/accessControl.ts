// Which wallets may publish. The denylist always applies; in "allowlist" mode only listed wallets may register an
// identity or publish at all. Decisions are made from an in-memory copy of the lists, refreshed whenever the
// store's version counter moves, so a change made by the CLI in another process takes effect within one poll.
import { ApiError, GrpcCode } from "../errors.js";
import type { Logger } from "../log.js";
import { silentLogger } from "../log.js";
import type { AuthzChange, AuthzEntry, AuthzStore } from "./authzStore.js";
import { normalizeWalletAddress } from "./authzStore.js";

export type AccessMode = "open" | "allowlist";

export const ACCESS_MODES: readonly AccessMode[] = ["open", "allowlist"];

/** "register" = publishing to one's own contact-/privatestore- topics; "publish" = anything else. */
export type AccessAction = "register" | "publish";

export interface AccessControlOptions {
  mode: AccessMode;
  /** How often to look at the store's version counter; default 1000 ms. */
  refreshIntervalMs?: number;
  logger?: Logger;
}

export const DEFAULT_AUTHZ_REFRESH_INTERVAL_MS = 1000;

const REGISTRATION_TOPIC = /^\/xmtp\/0\/(contact|privatestore)-/;

/** The action a publish to this topic amounts to. */
export function accessActionOfTopic(topic: string): AccessAction {
  return REGISTRATION_TOPIC.test(topic) ? "register" : "publish";
}

/** The action of a whole publish request: registering if any of its envelopes registers. */
export function accessActionOfTopics(topics: Iterable<string>): AccessAction {
  for (const topic of topics) if (accessActionOfTopic(topic) === "register") return "register";
  return "publish";
}

export class AccessControl {
  readonly mode: AccessMode;
  private readonly refreshIntervalMs: number;
  private readonly logger: Logger;
  private entries = new Map<string, AuthzEntry>();
  private loadedVersion = -1;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<boolean> | undefined;
  private refreshFailing = false;

  constructor(
    private readonly store: AuthzStore,
    options: AccessControlOptions,
  ) {
    if (!ACCESS_MODES.includes(options.mode)) {
      throw new TypeError(`access mode must be one of ${ACCESS_MODES.join(", ")}, got ${JSON.stringify(options.mode)}`);
    }
    this.mode = options.mode;
    this.refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_AUTHZ_REFRESH_INTERVAL_MS;
    this.logger = options.logger ?? silentLogger;
  }

  /** Loads the lists (failing if the store is unreachable) and starts watching for changes. */
  async start(): Promise<void> {
    await this.refresh();
    if (this.refreshIntervalMs > 0 && !this.timer) {
      this.timer = setInterval(() => {
        this.refresh().then(
          () => {
            if (this.refreshFailing) this.logger.info("authz lists readable again");
            this.refreshFailing = false;
          },
          (err) => {
            // Keep deciding with the last lists read rather than opening or closing the node on a store hiccup;
            // log once per outage, not once per poll.
            if (!this.refreshFailing) {
              this.logger.error("authz refresh failed; keeping the last lists read", { error: (err as Error).message });
            }
            this.refreshFailing = true;
          },
        );
      }, this.refreshIntervalMs);
      this.timer.unref();
    }
  }

  /** Re-reads the lists if another process changed them; resolves to true when it did. */
  refresh(): Promise<boolean> {
    // Coalesce overlapping calls (timer + admin API) into one read.
    this.refreshing ??= this.reload().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async reload(): Promise<boolean> {
    const version = await this.store.version();
    if (version === this.loadedVersion) return false;
    const entries = await this.store.list();
    this.entries = new Map(entries.map((entry) => [entry.address.toLowerCase(), entry]));
    const changed = this.loadedVersion !== -1;
    this.loadedVersion = version;
    if (changed) {
      this.logger.info("authz lists reloaded", {
        version,
        allowed: entries.filter((e) => e.permission === "allow").length,
        denied: entries.filter((e) => e.permission === "deny").length,
      });
    }
    return true;
  }

  entryOf(wallet: string): AuthzEntry | undefined {
    return this.entries.get(wallet.toLowerCase());
  }

  isPriority(wallet: string): boolean {
    const entry = this.entryOf(wallet);
    return entry?.permission === "allow" && entry.priority;
  }

  /** Null when the wallet may do this, otherwise the PERMISSION_DENIED error to answer with. */
  check(wallet: string, action: AccessAction): ApiError | null {
    const entry = this.entryOf(wallet);
    const what = action === "register" ? "registering an identity" : "publishing";
    if (entry?.permission === "deny") {
      return new ApiError(GrpcCode.PERMISSION_DENIED, `${what} denied: wallet ${wallet} is on this node's denylist`);
    }
    if (this.mode === "allowlist" && entry?.permission !== "allow") {
      return new ApiError(
        GrpcCode.PERMISSION_DENIED,
        `${what} denied: this node only accepts allowlisted wallets and ${wallet} is not on its allowlist`,
      );
    }
    return null;
  }

  list(): AuthzEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.address < b.address ? -1 : 1));
  }

  /** Changes made through this node (admin API) apply at once, not at the next poll. */
  async put(change: AuthzChange): Promise<AuthzEntry> {
    const entry = await this.store.put(change);
    await this.refreshAfterWrite();
    return entry;
  }

  async remove(address: string): Promise<boolean> {
    const removed = await this.store.remove(normalizeWalletAddress(address));
    await this.refreshAfterWrite();
    return removed;
  }

  private async refreshAfterWrite(): Promise<void> {
    // A refresh already in flight may have read the version before our write; wait for it, then read again.
    await this.refreshing?.catch(() => undefined);
    await this.refresh();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
