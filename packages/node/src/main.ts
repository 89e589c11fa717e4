#!/usr/bin/env node
// xmtp-node: parses flags and environment, starts the node, logs JSON lines, stops cleanly on SIGTERM/SIGINT.
import { ConfigError, USAGE, describeStorage, parseCommandLine, type NodeConfig } from "./config.js";
import { createJsonLogger } from "./log.js";
import { startNode } from "./server.js";
import { runAuthzCommand } from "./security/authzCommand.js";
import { runPostageCommand } from "./postage/postageCommand.js";
import { runRetentionCommand } from "./retention/retentionCommand.js";
import { runSnapshotCommand } from "./snapshot/snapshotCommand.js";

/**
 * For a listen that failed because its port is taken (EADDRINUSE), one line naming the port and the flag that
 * changes it; undefined for any other error.
 */
function portInUseMessage(error: unknown, config: NodeConfig): string | undefined {
  const { code, port, address } = (error ?? {}) as { code?: unknown; port?: unknown; address?: unknown };
  if (code !== "EADDRINUSE") return undefined;
  const busyPort = typeof port === "number" ? port : config.port;
  const where = typeof address === "string" ? ` on ${address}` : "";
  const flag =
    busyPort === config.p2p.port
      ? "--p2p-port PORT (or XMTP_P2P_PORT)"
      : busyPort === config.p2p.wsPort
        ? "--p2p-ws-port PORT (or XMTP_P2P_WS_PORT)"
        : "--port PORT (or XMTP_PORT; 0 picks any free port)";
  return `port ${busyPort}${where} is already in use (another xmtp-node, or another program, listens there); choose another with ${flag}`;
}

async function main(): Promise<number | undefined> {
  if (process.argv[2] === "authz") {
    return runAuthzCommand(process.argv.slice(3), process.env, {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    });
  }
  if (process.argv[2] === "retention") {
    return runRetentionCommand(process.argv.slice(3), process.env, {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    });
  }
  if (process.argv[2] === "snapshot") {
    return runSnapshotCommand(process.argv.slice(3), process.env, {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    });
  }
  if (process.argv[2] === "postage") {
    return runPostageCommand(process.argv.slice(3), process.env, {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    });
  }
  let parsed;
  try {
    parsed = parseCommandLine(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`xmtp-node: ${error.message}\nRun "xmtp-node --help" for the options.\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { config } = parsed;
  const logger = createJsonLogger({ level: config.logLevel });
  process.on("uncaughtException", (error) => {
    logger.error("uncaught exception", { error });
    process.exit(1);
  });
  process.on("unhandledRejection", (error) => {
    logger.error("unhandled rejection", { error });
    process.exit(1);
  });

  // Handlers go in before the "listening" line: a supervisor may signal as soon as it sees that line.
  const starting = startNode(config, { logger });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn("second signal, exiting at once", { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info("shutting down", { signal });
    starting
      .then((node) => node.close())
      .then(
        () => {
          logger.info("stopped");
          process.exit(0);
        },
        (error) => {
          logger.error("shutdown failed", { error });
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);

  let node;
  try {
    node = await starting;
  } catch (error) {
    const busy = portInUseMessage(error, config);
    if (busy === undefined) throw error;
    logger.error("failed to start", { error: busy });
    process.stderr.write(`xmtp-node: ${busy}\n`);
    process.exit(1);
  }
  logger.info("listening", {
    url: node.url,
    host: node.host,
    port: node.port,
    storage: describeStorage(config.storage),
    dataDir: config.dataDir,
    accessMode: config.security.accessMode,
    rateLimits: config.security.rateLimits.enabled,
    adminApi: config.security.adminToken !== undefined,
    postage: config.postage.mode,
  });
  return undefined;
}

main().then(
  (exitCode) => {
    if (exitCode !== undefined) process.exitCode = exitCode;
  },
  (error) => {
    process.stdout.write(
      JSON.stringify({ time: new Date().toISOString(), level: "error", msg: "failed to start", error: String(error?.message ?? error) }) + "\n",
    );
    process.exit(1);
  },
);
