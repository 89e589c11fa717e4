// Several real xmtp-node instances over one PostgreSQL database, behind a real HAProxy running the configuration
// operators are given, deploy/haproxy/xmtp-node.cfg. Only the balancer's port and the server lines are changed for
// a test, so what the tests exercise is the documented load balancer, not a look-alike.
// Needs `haproxy` (bash .ci/haproxy.sh installs Debian's) and a PostgreSQL URL (bash .ci/postgres.sh starts one).
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { dropSchemas, findHaproxy, startHaproxy, waitUntilReady, type Haproxy } from "./haproxy.js";
import { startNode, type RunningNode } from "./runningNode.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const haproxyTemplatePath = join(repoRoot, "deploy/haproxy/xmtp-node.cfg");

/** How long a cluster may take to start, and an instance to come back into the balancer after a restart. */
const READY_WITHIN_MS = 20_000;
/** How long HAProxy may take to mark a stopped instance DOWN: fall 2 × inter 1s, plus a check in flight. */
const DOWN_WITHIN_MS = 10_000;

export interface ClusterOptions {
  /** A database the test may create and drop schemas in (XMTP_TEST_POSTGRES_URL). */
  postgresUrl: string;
  /** Default 3. */
  instances?: number;
  /** Extra flags for every instance. */
  args?: string[];
  env?: Record<string, string>;
}

export interface Cluster {
  /** The balancer: what clients use. */
  url: string;
  /** The instances, in the order of the balancer's server lines; restartInstance replaces an entry. */
  instances: RunningNode[];
  /** HAProxy's name for each instance (node1, node2, …), as its logs print them. */
  serverNames: string[];
  /** The PostgreSQL schema every instance uses, created for this cluster and dropped by dispose(). */
  schema: string;
  /** The balancer's process, its latest output lines (access log included), and stop(). */
  haproxy: Pick<Haproxy, "process" | "logs" | "stop">;
  /** SIGTERM one instance, wait for it to exit, then until HAProxy has marked it DOWN. */
  stopInstance(index: number): Promise<void>;
  /** SIGKILL one instance (a crash), then wait until HAProxy has marked it DOWN. */
  killInstance(index: number): Promise<void>;
  /** Start an instance again on its port with its flags and data dir; resolves once the balancer sends it requests. */
  restartInstance(index: number): Promise<RunningNode>;
  /** Stop HAProxy and every instance, drop the schema, delete the temporary files. */
  dispose(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const count = options.instances ?? 3;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`instances must be a positive integer, got ${count}`);
  const haproxyBinary = findHaproxy();
  if (!haproxyBinary) throw new Error("haproxy not found: run .ci/haproxy.sh (it installs Debian's haproxy package)");

  const schema = `cluster_${randomBytes(6).toString("hex")}`;
  const dbUrl = new URL(options.postgresUrl);
  dbUrl.searchParams.set("schema", schema);
  const instanceArgs = ["--db", dbUrl.toString(), "--trust-proxy", "true", ...(options.args ?? [])];
  const workDir = mkdtempSync(join(tmpdir(), "xmtp-cluster-"));
  const dataDirs = Array.from({ length: count }, (_, i) => join(workDir, `node${i + 1}`));
  dataDirs.forEach((dir) => mkdirSync(dir));
  const [balancerPort, ...ports] = await freePorts(count + 1);

  const instances: RunningNode[] = [];
  let haproxy: Haproxy | undefined;
  const startInstance = (index: number) =>
    startNode({ port: ports[index], dataDir: dataDirs[index], args: instanceArgs, env: options.env });

  const dispose = async () => {
    // The balancer first, so nothing is sent to instances that are stopping; then every step is tried even when
    // an earlier one failed, and the first failure is reported.
    const failures: unknown[] = [];
    const attempt = async (step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    };
    await attempt(async () => haproxy?.stop());
    await Promise.all(instances.map((instance) => attempt(() => instance.stop())));
    await attempt(() => dropSchemas(options.postgresUrl, [schema]));
    rmSync(workDir, { recursive: true, force: true });
    if (failures.length > 0) throw failures[0];
  };

  try {
    // Concurrently: the instances race to migrate the fresh schema, as a cluster rolled out at once does.
    const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => startInstance(i)));
    started.forEach((result) => result.status === "fulfilled" && instances.push(result.value));
    const failed = started.find((result) => result.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const deadline = performance.now() + READY_WITHIN_MS;
    await Promise.all(instances.map((instance) => waitUntilReady(instance.url, deadline)));

    const template = readFileSync(haproxyTemplatePath, "utf8");
    const { config, serverNames } = renderHaproxyConfig(template, balancerPort, ports);
    const configPath = join(workDir, "haproxy.cfg");
    writeFileSync(configPath, config);
    // Master-worker, as a systemd unit runs it; the access lines are kept, for tests that read them.
    haproxy = startHaproxy(haproxyBinary, configPath, `http://127.0.0.1:${balancerPort}`, { masterWorker: true });
    // Proven by HAProxy's own access log: a request through the balancer reached each instance and got 200.
    await haproxy.waitUntilServedBy(serverNames, deadline);

    const serverOf = (index: number) => {
      if (!Number.isInteger(index) || index < 0 || index >= count) throw new RangeError(`no instance ${index}`);
      return serverNames[index];
    };
    const balancer = haproxy;
    return {
      url: balancer.url,
      instances,
      serverNames,
      schema,
      haproxy: { process: balancer.process, logs: balancer.logs, stop: () => balancer.stop() },
      async stopInstance(index) {
        const server = serverOf(index);
        await instances[index].stop();
        await balancer.waitUntilDown([server], performance.now() + DOWN_WITHIN_MS);
      },
      async killInstance(index) {
        const server = serverOf(index);
        await instances[index].kill();
        await balancer.waitUntilDown([server], performance.now() + DOWN_WITHIN_MS);
      },
      async restartInstance(index) {
        const server = serverOf(index);
        await instances[index].stop();
        instances[index] = await startInstance(index);
        const restartDeadline = performance.now() + READY_WITHIN_MS;
        await waitUntilReady(instances[index].url, restartDeadline);
        // After rise 2 × inter 1s HAProxy marks it UP again; waiting for a request it answered through the balancer
        // also covers a restart so quick that HAProxy never marked it DOWN.
        await balancer.waitUntilServedBy([server], restartDeadline);
        return instances[index];
      },
      dispose,
    };
  } catch (error) {
    await dispose().catch(() => undefined);
    throw error;
  }
}

/**
 * The cluster seen as one node, so suites written against a RunningNode run against the balancer unchanged.
 * stop()/kill() stop the balancer and every instance, so the URL refuses connections as a stopped node's does.
 */
export function clusterAsRunningNode(cluster: Cluster): RunningNode {
  return {
    url: cluster.url,
    dataDir: cluster.instances[0].dataDir,
    process: cluster.haproxy.process,
    logs: cluster.haproxy.logs,
    async stop() {
      await cluster.haproxy.stop();
      const codes = await Promise.all(cluster.instances.map((instance) => instance.stop()));
      const failed = codes.findIndex((code) => code !== 0);
      return failed < 0 ? 0 : codes[failed];
    },
    async kill() {
      await cluster.haproxy.stop();
      await Promise.all(cluster.instances.map((instance) => instance.kill()));
    },
    dispose: () => cluster.dispose(),
  };
}

/**
 * The template with its `bind` port replaced and one `server` line per port, each a copy of the template's first
 * server line (name node1, node2, … from its name without trailing digits; same address, options and indentation).
 * Throws if the template does not have exactly one bind line with a port, or has no server line.
 */
export function renderHaproxyConfig(
  template: string,
  balancerPort: number,
  instancePorts: number[],
): { config: string; serverNames: string[] } {
  const lines = template.split("\n");
  const bindLine = /^(\s*bind\s+[^\s:]+:)(\d+)(\s.*)?$/;
  const serverLine = /^(\s*)server\s+(\S+)\s+([^\s:]+):(\d+)(\s.*)?$/;
  const binds = lines.filter((line) => bindLine.test(line));
  if (binds.length !== 1) {
    throw new Error(`${haproxyTemplatePath} must have exactly one "bind <address>:<port>" line, found ${binds.length}`);
  }
  const firstServer = lines.findIndex((line) => serverLine.test(line));
  if (firstServer < 0) throw new Error(`${haproxyTemplatePath} has no "server <name> <address>:<port> …" line`);
  const [, indent, name, host, , rest = ""] = serverLine.exec(lines[firstServer])!;
  const stem = name.replace(/\d+$/, "") || "node";
  const serverNames = instancePorts.map((_, i) => `${stem}${i + 1}`);
  const servers = instancePorts.map((port, i) => `${indent}server ${serverNames[i]} ${host}:${port}${rest}`);

  const output: string[] = [];
  lines.forEach((line, i) => {
    if (i === firstServer) output.push(...servers);
    else if (serverLine.test(line)) return;
    else output.push(line.replace(bindLine, (_, head: string, _port: string, tail = "") => `${head}${balancerPort}${tail}`));
  });
  return { config: output.join("\n"), serverNames };
}

/** Ports that were free a moment ago: all bound to port 0 at once (so they differ), then released. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolveListen, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolveListen());
      });
    }
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolveClose) => server.close(resolveClose))));
  }
}
