#!/usr/bin/env node
// xmtp-notify: parses flags and environment, starts the service, logs JSON lines, stops cleanly on SIGTERM/SIGINT.
import { ConfigError, USAGE, parseNotifyCommandLine } from "./config.js";
import { jsonLogger } from "./log.js";
import { startNotifyService } from "./service.js";

async function main(): Promise<number | undefined> {
  let parsed;
  try {
    parsed = parseNotifyCommandLine(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`xmtp-notify: ${error.message}\nRun "xmtp-notify --help" for the options.\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { config } = parsed;
  const logger = jsonLogger(config.logLevel);
  process.on("uncaughtException", (error) => {
    logger.error("uncaught exception", { error });
    process.exit(1);
  });
  process.on("unhandledRejection", (error) => {
    logger.error("unhandled rejection", { error });
    process.exit(1);
  });
  let service;
  try {
    service = await startNotifyService(config, { logger });
  } catch (error) {
    logger.error("failed to start", { error });
    return 1;
  }
  const running = service;
  logger.info("listening", { url: running.url, host: config.host, port: running.port, storage: running.storage, nodes: config.nodes });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    running.close().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error("shutdown failed", { error });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  return undefined;
}

main().then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`xmtp-notify: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
