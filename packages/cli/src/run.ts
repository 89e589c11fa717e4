import { COMMAND_USAGE, parseCommandLine, USAGE, type Command, type GlobalOptions } from "./args.js";
import {
  toConversationView,
  toMessageView,
  type ChatClient,
  type ChatConversation,
  type ChatMessage,
} from "./chatClient.js";
import { CliError, ExitCode, toCliError } from "./errors.js";
import {
  conversationJson,
  formatConversationLine,
  formatMessageLine,
  messageJson,
  type ConversationView,
  type MessageView,
} from "./format.js";
import { initIdentity, loadIdentity, type WalletIdentity } from "./identity.js";

export const CLI_VERSION = "0.1.0";

/** Everything the CLI touches outside itself, so tests can run it in-process and main.ts can wire the real world. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
  /** Aborted when the user interrupts (SIGINT/SIGTERM): `stream` then stops and exits 0. */
  interrupt: AbortSignal;
  /** Creates (or loads) the client for a wallet; registers the identity on the network if it is new. */
  connect(identity: WalletIdentity, apiUrl: string): Promise<ChatClient>;
  /** Whether an address has an identity on the network, without needing one of our own. */
  canMessage(peerAddress: string, apiUrl: string): Promise<boolean>;
}

interface Context {
  io: CliIo;
  options: GlobalOptions;
}

function print(ctx: Context, text: string): void {
  ctx.io.stdout(text.endsWith("\n") ? text : text + "\n");
}

function printJson(ctx: Context, value: unknown): void {
  ctx.io.stdout(JSON.stringify(value) + "\n");
}

async function connect(ctx: Context): Promise<ChatClient> {
  const { identity } = loadIdentity(ctx.options.keyFile, ctx.io.env);
  return ctx.io.connect(identity, ctx.options.apiUrl);
}

async function init(ctx: Context, force: boolean): Promise<void> {
  const resolved = initIdentity(ctx.options.keyFile, ctx.io.env, force);
  // The key is on disk before the network sees it: a registered identity whose key was never saved is lost.
  const client = await ctx.io.connect(resolved.identity, ctx.options.apiUrl);
  const result = {
    address: client.address,
    keyFile: resolved.keyFile,
    source: resolved.source,
    saved: resolved.saved,
    apiUrl: ctx.options.apiUrl,
  };
  if (ctx.options.json) return printJson(ctx, result);
  const origin = {
    generated: "created a new identity",
    environment: "using the identity from XMTP_PRIVATE_KEY",
    "key-file": "using the identity",
  }[resolved.source];
  print(ctx, `${origin} ${client.address}`);
  print(ctx, resolved.saved ? `saved it to ${resolved.keyFile} (mode 0600)` : `key file: ${resolved.keyFile}`);
  print(ctx, `registered on ${ctx.options.apiUrl}; others can now message ${client.address}`);
}

async function requireReachable(ctx: Context, client: ChatClient, peerAddress: string): Promise<void> {
  if (peerAddress === client.address) {
    throw new CliError("USAGE", `${peerAddress} is your own address; XMTP conversations need another wallet`);
  }
  if (!(await client.canMessage(peerAddress))) {
    throw new CliError(
      "NOT_ON_NETWORK",
      `${peerAddress} is not on the XMTP network at ${ctx.options.apiUrl} (it has never run "xmtp init" or an XMTP app)`,
    );
  }
}

async function send(ctx: Context, peerAddress: string, textArgument: string): Promise<void> {
  const text = textArgument === "-" ? (await ctx.io.readStdin()).replace(/\r?\n$/, "") : textArgument;
  if (text.length === 0) throw new CliError("USAGE", "send: TEXT is empty; there is nothing to send");
  const client = await connect(ctx);
  await requireReachable(ctx, client, peerAddress);
  const conversation = await client.conversations.newConversation(peerAddress);
  const message = await conversation.send(text);
  const view = toMessageView(message, conversation);
  if (ctx.options.json) return printJson(ctx, { message: messageJson(view) });
  print(ctx, `sent to ${peerAddress} (message ${view.id})`);
}

/** Runs `work` over `items` with at most `limit` in flight: enough to hide latency without flooding the node. */
async function mapConcurrently<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function latestMessage(conversation: ChatConversation): Promise<ChatMessage | undefined> {
  const [latest] = await conversation.messages({ limit: 1, direction: "descending" });
  return latest;
}

function lastActivity(view: ConversationView): number {
  return (view.latestMessage?.sent ?? view.createdAt).getTime();
}

async function list(ctx: Context): Promise<void> {
  const client = await connect(ctx);
  const conversations = await client.conversations.list();
  const views = await mapConcurrently(conversations, 8, async (conversation) =>
    toConversationView(conversation, await latestMessage(conversation)),
  );
  views.sort((a, b) => lastActivity(b) - lastActivity(a));
  if (ctx.options.json) return printJson(ctx, { address: client.address, conversations: views.map(conversationJson) });
  if (views.length === 0) {
    print(ctx, `no conversations yet; start one with: xmtp send ADDRESS TEXT`);
    return;
  }
  for (const view of views) print(ctx, formatConversationLine(view, client.address));
}

async function read(ctx: Context, peerAddress: string, limit: number): Promise<void> {
  const client = await connect(ctx);
  const conversations = (await client.conversations.list()).filter((c) => c.peerAddress === peerAddress);
  if (conversations.length === 0) {
    throw new CliError("NO_CONVERSATION", `you have no conversation with ${peerAddress}; start one with: xmtp send ${peerAddress} TEXT`);
  }
  // A peer can have several conversations (v1, v2, one per app context); show them as one thread.
  const pages = await mapConcurrently(conversations, 8, async (conversation) =>
    (await conversation.messages({ limit, direction: "descending" })).map((m) => toMessageView(m, conversation)),
  );
  const messages = pages
    .flat()
    .sort((a, b) => a.sent.getTime() - b.sent.getTime())
    .slice(-limit);
  if (ctx.options.json) return printJson(ctx, { peerAddress, messages: messages.map(messageJson) });
  if (messages.length === 0) print(ctx, `no messages with ${peerAddress} yet`);
  for (const message of messages) print(ctx, formatMessageLine(message, client.address));
}

async function stream(ctx: Context): Promise<void> {
  const client = await connect(ctx);
  if (ctx.io.interrupt.aborted) return;
  // The client reconnects and fills the gap by itself; say so, since a silent terminal looks like a quiet inbox.
  const messages = await client.conversations.streamAllMessages((error) => {
    const reason = toCliError(error, { apiUrl: ctx.options.apiUrl }).message;
    ctx.io.stderr(`xmtp: lost the connection to the node (${reason}); reconnecting\n`);
  });
  const stop = () => void messages.return(undefined);
  ctx.io.interrupt.addEventListener("abort", stop, { once: true });
  // On stderr so that stdout carries messages only; scripts and tests wait for this line.
  ctx.io.stderr(`streaming messages for ${client.address} (Ctrl-C to stop)\n`);
  try {
    for await (const message of messages) {
      const view: MessageView = toMessageView(message, undefined);
      if (ctx.options.json) printJson(ctx, messageJson(view));
      else print(ctx, formatMessageLine(view, client.address, { showPeer: true }));
    }
  } finally {
    ctx.io.interrupt.removeEventListener("abort", stop);
  }
}

async function canMessage(ctx: Context, peerAddress: string): Promise<number> {
  const reachable = await ctx.io.canMessage(peerAddress, ctx.options.apiUrl);
  if (ctx.options.json) printJson(ctx, { address: peerAddress, canMessage: reachable });
  else print(ctx, reachable ? `${peerAddress} is on the XMTP network` : `${peerAddress} is not on the XMTP network`);
  return reachable ? ExitCode.OK : ExitCode.NOT_ON_NETWORK;
}

function help(ctx: Context, topic: string | undefined): number {
  if (topic === undefined) {
    ctx.io.stdout(USAGE);
    return ExitCode.OK;
  }
  const usage = COMMAND_USAGE[topic];
  if (!usage) throw new CliError("USAGE", `no help for ${JSON.stringify(topic)}: it is not a command`);
  print(ctx, `usage: ${usage}`);
  return ExitCode.OK;
}

async function execute(ctx: Context, command: Command): Promise<number> {
  switch (command.name) {
    case "help":
      return help(ctx, command.topic);
    case "version":
      print(ctx, CLI_VERSION);
      return ExitCode.OK;
    case "init":
      await init(ctx, command.force);
      return ExitCode.OK;
    case "send":
      await send(ctx, command.peerAddress, command.text);
      return ExitCode.OK;
    case "list":
      await list(ctx);
      return ExitCode.OK;
    case "read":
      await read(ctx, command.peerAddress, command.limit);
      return ExitCode.OK;
    case "stream":
      await stream(ctx);
      return ExitCode.OK;
    case "can-message":
      return canMessage(ctx, command.peerAddress);
  }
}

function reportError(io: CliIo, json: boolean, error: CliError): void {
  if (json) {
    io.stderr(JSON.stringify({ error: { kind: error.kind, exitCode: error.exitCode, message: error.message } }) + "\n");
  } else {
    io.stderr(`xmtp: ${error.message}\n`);
  }
  if (error.kind === "INTERNAL" && io.env.XMTP_DEBUG && error.cause instanceof Error && error.cause.stack) {
    io.stderr(error.cause.stack + "\n");
  }
}

/** Runs one command line to completion and returns the exit code; never throws. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const json = argv.includes("--json");
  let apiUrl = "the node";
  try {
    const { command, options } = parseCommandLine(argv, io.env);
    apiUrl = options.apiUrl;
    return await execute({ io, options }, command);
  } catch (err) {
    const error = toCliError(err, { apiUrl });
    reportError(io, json, error);
    return error.exitCode;
  }
}
