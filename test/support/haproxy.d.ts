// Types of haproxy.js, written by hand (the tests' tsconfig does not compile JavaScript): keep the two in step.
// Note that skipLibCheck (tsconfig.base.json) skips errors inside .d.ts files, this one included; check it with
// `npx tsc -p tsconfig.tests.json --skipLibCheck false` after changing it.
import type { ChildProcess } from "node:child_process";
import type { Client } from "pg";

/** haproxy on PATH, or in /usr/sbin or /usr/local/sbin; undefined when there is none. */
export function findHaproxy(): string | undefined;

/** A request HAProxy's access log says it forwarded (its own /readyz probes excepted). */
export interface HaproxyRequest {
  /** The server that answered, e.g. "node2"; "<NOSRV>" when none did. */
  server: string;
  /** The status sent to the client; -1 when there was none. */
  status: number;
  method: string;
  /** Path and query string. */
  path: string;
}

/** A server state change, as HAProxy logged it. */
export interface HaproxyStateChange {
  /** performance.now() when the line was read. */
  at: number;
  server: string;
  state: "UP" | "DOWN";
}

export interface HaproxyOptions {
  /** Run with -W (master-worker, as systemd does); then `process` is the master, not the worker. Default false. */
  masterWorker?: boolean;
  /** Keep access log lines in `logs` too. Default true; a caller sending many requests may keep only the rest. */
  keepAccessLines?: boolean;
  /** Called for every access log line but those of the probes. */
  onRequest?: (request: HaproxyRequest) => void;
}

export interface Haproxy {
  /** The balancer's URL, as given. */
  readonly url: string;
  readonly process: ChildProcess;
  /** The latest lines of HAProxy's stdout and stderr (at most 2,000). */
  readonly logs: string[];
  /** Every server state change HAProxy logged, in order. */
  readonly changes: HaproxyStateChange[];
  /** Until HAProxy has logged each of `servers` going DOWN; throws at `deadline` (a performance.now() value). */
  waitUntilDown(servers: readonly string[], deadline: number): Promise<void>;
  /** Until each of `servers` has answered a /readyz probe through the balancer with 200, as its access log says. */
  waitUntilServedBy(servers: readonly string[], deadline: number): Promise<void>;
  /** Until `times` probes in a row were answered 200 by `server`. */
  waitUntilOnlyServer(server: string, times: number, deadline: number): Promise<void>;
  /** SIGTERM (SIGKILL if it has not exited 10 s later); resolves once it has exited. */
  stop(): Promise<void>;
  /** SIGKILL, without waiting. */
  kill(): void;
}

/**
 * Starts `binary [-W] -db -f configPath`, whose frontend answers at `url`. A binary that cannot start is not thrown
 * here: the waits then throw "haproxy is not running" with its output.
 */
export function startHaproxy(binary: string, configPath: string, url: string, options?: HaproxyOptions): Haproxy;

/** Polls `${url}/readyz` until it answers 200; throws at `deadline` (a performance.now() value). */
export function waitUntilReady(url: string, deadline: number): Promise<void>;

/** fn with a client connected to the database of a node-style URL (its ?schema= left out), closed afterwards. */
export function withPostgres<T>(postgresUrl: string, fn: (client: Client) => Promise<T>): Promise<T>;

/** DROP SCHEMA IF EXISTS … CASCADE for each, over one connection; rejects on the first failure. */
export function dropSchemas(postgresUrl: string, schemas: readonly string[]): Promise<void>;
