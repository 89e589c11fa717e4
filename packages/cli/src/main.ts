#!/usr/bin/env node
import { archiveIo, connectClient, canMessageOnNetwork } from "./xmtpClient.js";
import { run } from "./run.js";

const interrupt = new AbortController();
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

function onSignal(): void {
  // First signal: let `stream` end cleanly; any other command (or a second signal) stops at once.
  if (interrupt.signal.aborted) process.exit(130);
  interrupt.abort();
  setTimeout(() => process.exit(130), 1000).unref();
}

process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  // The reader went away (`xmtp stream | head -1`): nobody is left to tell.
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const code = await run(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  readStdin,
  interrupt: interrupt.signal,
  connect: connectClient,
  canMessage: canMessageOnNetwork,
  archive: archiveIo,
  stderrIsTTY: process.stderr.isTTY === true,
  stderrColumns: () => process.stderr.columns,
});
// Exit explicitly once output is flushed: idle keep-alive connections would otherwise hold the process open.
process.stdout.write("", () => process.exit(code));
