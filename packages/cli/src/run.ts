import { readFileSync } from "node:fs";
import {
  ContentTypePostageGrant,
  EnsNameResolver,
  isAddressLike,
  readArchiveHeader,
  type NameResolver,
  type PostageGrant,
} from "@xmtp-ts/client";
import { VaultRevertError } from "@xmtp-ts/postage";
import { COMMAND_USAGE, parseCommandLine, USAGE, type Command, type GlobalOptions, type PostageAction } from "./args.js";
import {
  toConversationView,
  toMessageView,
  type ChatClient,
  type ChatConversation,
  type ArchiveIo,
  type ChatMessage,
  type ConnectOptions,
  type PayerConfig,
} from "./chatClient.js";
import { CliError, ExitCode, toCliError } from "./errors.js";
import {
  conversationJson,
  formatConversationLine,
  formatLocalTime,
  formatMessageLine,
  messageJson,
  ProgressLine,
  type ConversationView,
  type MessageView,
} from "./format.js";
import { inboxDatabaseFor } from "./inboxDatabase.js";
import { GrantBook, grantsFileFor, storedGrantOf, type GrantLike } from "./grantsFile.js";
import { identityFromPrivateKey, initIdentity, loadIdentity, type WalletIdentity } from "./identity.js";
import { writePrivateFile } from "./privateFile.js";
import { explainSendRefusal, formatPrice, formatWei, postageCliError, quoteJson } from "./postageErrors.js";
import { PeerNames } from "./peerNames.js";
import { broadcastCommand } from "./broadcast.js";
import { chatCommand } from "./chat.js";

export const CLI_VERSION = "0.1.0";

/** Everything the CLI touches outside itself, so tests can run it in-process and main.ts can wire the real world. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
  /** Aborted when the user interrupts (SIGINT/SIGTERM): `stream` then stops and exits 0. */
  interrupt: AbortSignal;
  /**
   * Creates (or loads) the client for a wallet; registers the identity on the network if it is new. With a payer,
   * the client pays postage for first messages to strangers and can use the payer's vault channel.
   */
  connect(identity: WalletIdentity, apiUrl: string, options?: ConnectOptions): Promise<ChatClient>;
  /** Whether an address has an identity on the network, without needing one of our own. */
  canMessage(peerAddress: string, apiUrl: string): Promise<boolean>;
  /** Inbox archives (`export`, `import`, `read --archive`); absent, those commands are refused. */
  archive?: ArchiveIo;
  /** Whether stderr is a terminal: progress is then a bar redrawn in place, else plain lines. */
  stderrIsTTY?: boolean;
  stderrColumns?: () => number | undefined;
  /** The name system behind --eth-rpc-url; default ENS through that RPC (EnsNameResolver). */
  nameResolver?: (rpcUrl: string) => NameResolver;
}

interface Context {
  io: CliIo;
  options: GlobalOptions;
  /** Made on first use, when --eth-rpc-url is set. */
  names?: NameResolver;
  peerNames?: PeerNames;
}

/** The resolver for names (ENS), when --eth-rpc-url (or XMTP_ETH_RPC_URL) is set. */
function nameResolver(ctx: Context): NameResolver | undefined {
  const rpcUrl = ctx.options.ethRpcUrl;
  if (rpcUrl === undefined) return undefined;
  ctx.names ??= ctx.io.nameResolver?.(rpcUrl) ?? new EnsNameResolver({ rpcUrl });
  return ctx.names;
}

/** A peer the user gave: its address, and the name they typed for it, if they typed one. */
interface Peer {
  address: string;
  name?: string;
}

/** The address of a peer given as an address or as a name (resolved through --eth-rpc-url). */
async function resolvePeerInput(ctx: Context, input: string): Promise<Peer> {
  if (isAddressLike(input)) return { address: input };
  const resolver = nameResolver(ctx);
  if (!resolver) {
    throw new CliError(
      "USAGE",
      `${input} is a name: resolving it needs an Ethereum JSON-RPC, given with --eth-rpc-url URL or XMTP_ETH_RPC_URL ` +
        `(a mainnet RPC for .eth names)`,
    );
  }
  const address = await resolver.resolve(input);
  if (address === null) {
    throw new CliError(
      "NAME",
      `${input} does not resolve to an address at ${ctx.options.ethRpcUrl} (no such name, or no address record) [name_not_found]`,
    );
  }
  return { address, name: input };
}

function peerText(peer: Peer): string {
  return peer.name ? `${peer.name} (${peer.address})` : peer.address;
}

/** Verified names for the peers a command shows; none without --eth-rpc-url, and a failed lookup shows the address. */
function peerNames(ctx: Context): PeerNames {
  ctx.peerNames ??= new PeerNames(nameResolver(ctx), (error) => {
    const reason = error instanceof Error ? error.message : String(error);
    ctx.io.stderr(`xmtp: note: names are not shown: ${reason}\n`);
  });
  return ctx.peerNames;
}

/** Sets `peerName` on views when names are looked up (left absent otherwise, so the output is as without names). */
async function addPeerNames(ctx: Context, views: { peerAddress: string; peerName?: string | null }[], known?: Peer): Promise<void> {
  const names = peerNames(ctx);
  if (!names.enabled) return;
  await mapConcurrently(views, 8, async (view) => {
    view.peerName = known?.name !== undefined && known.address === view.peerAddress ? known.name : await names.nameOf(view.peerAddress);
  });
}

function print(ctx: Context, text: string): void {
  ctx.io.stdout(text.endsWith("\n") ? text : text + "\n");
}

function printJson(ctx: Context, value: unknown): void {
  ctx.io.stdout(JSON.stringify(value) + "\n");
}

/** A connected client and the grants file of its identity, whose grants the client already holds. */
interface Session {
  client: ChatClient;
  grants: GrantBook;
}

/** The payer from XMTP_PAYER_KEY (never a flag: flags show in ps), or undefined when it is not set. */
interface Payer {
  address: string;
  config: PayerConfig;
}

function payerFromEnvironment(ctx: Context, options: { rpcUrl?: string; maxPriceWei?: bigint } = {}): Payer | undefined {
  const key = ctx.io.env.XMTP_PAYER_KEY?.trim();
  if (!key) return undefined;
  const { address } = identityFromPrivateKey(key, "XMTP_PAYER_KEY");
  const privateKey = key.startsWith("0x") || key.startsWith("0X") ? "0x" + key.slice(2) : "0x" + key;
  return { address, config: { privateKey, ...options } };
}

/**
 * Loads the identity, connects, and hands the client the grants kept for this identity (postage-grants.json beside
 * the key file), so that a grant accepted by an earlier command makes this one's first messages free.
 */
async function connect(ctx: Context, payer?: Payer): Promise<Session> {
  const { identity, keyFile } = loadIdentity(ctx.options.keyFile, ctx.io.env);
  const grants = new GrantBook(grantsFileFor(keyFile), identity.address);
  const dbPath = inboxDatabaseFor(keyFile, identity.address, ctx.options.apiUrl);
  const client = await ctx.io.connect(identity, ctx.options.apiUrl, payer ? { payer: payer.config, dbPath } : { dbPath });
  grants.restore(client.postage);
  return { client, grants };
}

function expiryText(grant: GrantLike): string {
  return `${formatLocalTime(grant.expiresAt)} (chain ${grant.chainId}, vault ${grant.vault})`;
}

/**
 * Keeps the grants the client received while this command read messages (they arrive as conversation content) and
 * says so on stderr, so that stdout stays what the command prints.
 */
function keepReceivedGrants(ctx: Context, session: Session): void {
  for (const grant of session.grants.save(session.client.postage)) {
    ctx.io.stderr(`kept the grant from ${grant.grantor}: your first messages to them are free until ${expiryText(grant)}\n`);
  }
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

/**
 * The identity the other commands would use, and the node they would use it with; offline (the node is not asked).
 * The same wallet is a separate registration on each network: "xmtp init --api-url URL" registers it on another.
 */
function whoami(ctx: Context): void {
  const { identity, source, keyFile } = loadIdentity(ctx.options.keyFile, ctx.io.env);
  const from = source === "environment" ? "XMTP_PRIVATE_KEY" : keyFile;
  if (ctx.options.json) return printJson(ctx, { address: identity.address, source, keyFile: from, apiUrl: ctx.options.apiUrl });
  print(ctx, identity.address);
  print(ctx, `key: ${from}`);
  print(ctx, `node: ${ctx.options.apiUrl} (identities are per network: "xmtp init --api-url URL" registers it on another)`);
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

/** What the payer owes the node's operator so far, by the node's count; undefined when postage is off or unknown. */
async function owedByPayer(client: ChatClient): Promise<bigint | undefined> {
  try {
    const quote = await client.postage.quote();
    return quote.postage === "required" ? (quote.payer?.acceptedCumulativeWei ?? 0n) : undefined;
  } catch {
    return undefined;
  }
}

async function send(ctx: Context, peerInput: string, textArgument: string, maxPriceWei: bigint | undefined): Promise<void> {
  const text = textArgument === "-" ? (await ctx.io.readStdin()).replace(/\r?\n$/, "") : textArgument;
  if (text.length === 0) throw new CliError("USAGE", "send: TEXT is empty; there is nothing to send");
  const peer = await resolvePeerInput(ctx, peerInput);
  const peerAddress = peer.address;
  // A stamp is a signature by the payer's key: sending needs no chain RPC, only the key.
  const payer = payerFromEnvironment(ctx, maxPriceWei === undefined ? {} : { maxPriceWei });
  const session = await connect(ctx, payer);
  const { client } = session;
  await requireReachable(ctx, client, peerAddress);
  const owedBefore = payer ? await owedByPayer(client) : undefined;
  let conversation: ChatConversation;
  let message: ChatMessage;
  try {
    conversation = await client.conversations.newConversation(peerAddress);
    message = await conversation.send(text);
  } catch (err) {
    throw explainSendRefusal(err, { apiUrl: ctx.options.apiUrl, me: client.address, peer: peerAddress, payer: payer?.address }) ?? err;
  }
  keepReceivedGrants(ctx, session);
  const owedAfter = owedBefore === undefined ? undefined : await owedByPayer(client);
  const paid = owedBefore !== undefined && owedAfter !== undefined && owedAfter > owedBefore ? owedAfter - owedBefore : undefined;
  const view = toMessageView(message, conversation);
  if (ctx.options.json) {
    const postage = paid !== undefined ? { postage: { payer: payer!.address, paidWei: paid.toString() } } : {};
    return printJson(ctx, { message: messageJson(view), ...(peer.name ? { peerName: peer.name } : {}), ...postage });
  }
  print(ctx, `sent to ${peerText(peer)} (message ${view.id})`);
  if (paid !== undefined) print(ctx, `paid ${formatWei(paid)} postage from payer ${payer!.address}`);
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
  const session = await connect(ctx);
  const { client } = session;
  const conversations = await client.conversations.list();
  const views = await mapConcurrently(conversations, 8, async (conversation) =>
    toConversationView(conversation, await latestMessage(conversation)),
  );
  views.sort((a, b) => lastActivity(b) - lastActivity(a));
  await addPeerNames(ctx, views);
  keepReceivedGrants(ctx, session);
  if (ctx.options.json) return printJson(ctx, { address: client.address, conversations: views.map(conversationJson) });
  if (views.length === 0) {
    print(ctx, `no conversations yet; start one with: xmtp send ADDRESS TEXT`);
    return;
  }
  for (const view of views) print(ctx, formatConversationLine(view, client.address));
}

async function read(ctx: Context, peerInput: string, limit: number): Promise<void> {
  const peer = await resolvePeerInput(ctx, peerInput);
  const peerAddress = peer.address;
  const session = await connect(ctx);
  const { client } = session;
  const conversations = (await client.conversations.list()).filter((c) => c.peerAddress === peerAddress);
  if (conversations.length === 0) {
    throw new CliError("NO_CONVERSATION", `you have no conversation with ${peerText(peer)}; start one with: xmtp send ${peerInput} TEXT`);
  }
  // A peer can have several conversations (v1, v2, one per app context); show them as one thread.
  const pages = await mapConcurrently(conversations, 8, async (conversation) =>
    (await conversation.messages({ limit, direction: "descending" })).map((m) => toMessageView(m, conversation)),
  );
  const messages = pages
    .flat()
    .sort((a, b) => a.sent.getTime() - b.sent.getTime())
    .slice(-limit);
  await addPeerNames(ctx, messages, peer);
  keepReceivedGrants(ctx, session);
  if (ctx.options.json) {
    const named = peerNames(ctx).enabled ? { peerName: peer.name ?? (await peerNames(ctx).nameOf(peerAddress)) } : {};
    return printJson(ctx, { peerAddress, ...named, messages: messages.map(messageJson) });
  }
  if (messages.length === 0) print(ctx, `no messages with ${peerText(peer)} yet`);
  for (const message of messages) print(ctx, formatMessageLine(message, client.address));
}

function archiveIo(ctx: Context): ArchiveIo {
  if (!ctx.io.archive) throw new CliError("INTERNAL", "inbox archives are not available in this build of the CLI");
  return ctx.io.archive;
}

function readArchiveFile(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (err as Error).message;
    throw new CliError("USAGE", `cannot read the archive ${file}: ${why}`, { cause: err });
  }
}

function progressLine(ctx: Context): ProgressLine {
  return new ProgressLine((text) => ctx.io.stderr(text), ctx.io.stderrIsTTY === true && !ctx.options.json);
}

async function exportCommand(ctx: Context, file: string): Promise<void> {
  const { identity, keyFile } = loadIdentity(ctx.options.keyFile, ctx.io.env);
  const dbPath = inboxDatabaseFor(keyFile, identity.address, ctx.options.apiUrl);
  const progress = progressLine(ctx);
  let archive: Uint8Array;
  try {
    archive = await archiveIo(ctx).exportInbox(identity, ctx.options.apiUrl, {
      dbPath,
      onProgress: (p) =>
        progress.update("exporting", p.topicsDone, p.topicsTotal, `${p.topicsDone}/${p.topicsTotal} topics, ${p.envelopes} envelopes`, p.topicsDone === p.topicsTotal),
    });
  } finally {
    progress.end();
  }
  try {
    writePrivateFile(file, archive);
  } catch (err) {
    throw new CliError("USAGE", `cannot write the archive to ${file}: ${(err as Error).message}`, { cause: err });
  }
  const header = readArchiveHeader(archive);
  const result = { file, address: header.walletAddress, apiUrl: ctx.options.apiUrl, topics: header.topicCount, envelopes: header.envelopeCount, bytes: archive.length };
  if (ctx.options.json) return printJson(ctx, result);
  print(ctx, `exported ${header.envelopeCount} envelopes on ${header.topicCount} topics of ${header.walletAddress} from ${ctx.options.apiUrl}`);
  print(ctx, `wrote ${file} (${archive.length} bytes, mode 0600; encrypted: only ${header.walletAddress}'s keys open it)`);
}

const MAX_REFUSALS_SHOWN = 10;

async function importCommand(ctx: Context, file: string): Promise<number> {
  const archive = readArchiveFile(file);
  const header = readArchiveHeader(archive);
  const { identity } = loadIdentity(ctx.options.keyFile, ctx.io.env);
  if (identity.address !== header.walletAddress) {
    throw new CliError(
      "ARCHIVE",
      `${file} is the inbox of ${header.walletAddress}, but your identity is ${identity.address}; use the identity that exported it (--key-file or XMTP_PRIVATE_KEY) [archive_wrong_keys]`,
    );
  }
  const progress = progressLine(ctx);
  let report;
  try {
    report = await archiveIo(ctx).importInbox(identity, ctx.options.apiUrl, archive, {
      onProgress: (p) =>
        progress.update(
          "importing",
          p.envelopesDone,
          p.envelopesTotal,
          `${p.envelopesDone}/${p.envelopesTotal} envelopes on ${p.topicsDone}/${p.topicsTotal} topics: ${p.published} published, ` +
            `${p.alreadyPresent} already there, ${p.refused} refused`,
          p.topicsDone === p.topicsTotal,
        ),
    });
  } finally {
    progress.end();
  }
  const code = report.refused.length > 0 ? ExitCode.NODE_ERROR : ExitCode.OK;
  if (ctx.options.json) {
    printJson(ctx, {
      file,
      address: header.walletAddress,
      apiUrl: ctx.options.apiUrl,
      topics: report.topics,
      envelopes: report.envelopes,
      published: report.published,
      alreadyPresent: report.alreadyPresent,
      refused: report.refused.map((r) => ({ ...r, timestampNs: r.timestampNs.toString() })),
    });
    return code;
  }
  print(
    ctx,
    `imported ${file} into ${ctx.options.apiUrl}: ${report.published} envelopes published, ${report.alreadyPresent} already there, ` +
      `${report.refused.length} refused (${report.envelopes} on ${report.topics} topics)`,
  );
  for (const refused of report.refused.slice(0, MAX_REFUSALS_SHOWN)) {
    const status = refused.httpStatus !== undefined ? `HTTP ${refused.httpStatus}` : `code ${refused.grpcCode}`;
    ctx.io.stderr(`xmtp: the node refused an envelope on ${refused.topic} (${status}): ${refused.reason}\n`);
  }
  if (report.refused.length > MAX_REFUSALS_SHOWN) ctx.io.stderr(`xmtp: … and ${report.refused.length - MAX_REFUSALS_SHOWN} more refused\n`);
  if (report.refused.length > 0) {
    ctx.io.stderr(`xmtp: running "xmtp import" again retries only what is still missing\n`);
  }
  return code;
}

async function readArchiveCommand(ctx: Context, file: string, peerAddress: string | undefined, limit: number | undefined): Promise<void> {
  const archive = readArchiveFile(file);
  readArchiveHeader(archive);
  const { identity } = loadIdentity(ctx.options.keyFile, ctx.io.env);
  const reader = await archiveIo(ctx).openArchive(identity, archive);
  const all = await reader.conversations.list();
  const conversations = peerAddress === undefined ? all : all.filter((c) => c.peerAddress === peerAddress);
  if (peerAddress !== undefined && conversations.length === 0) {
    throw new CliError("NO_CONVERSATION", `the archive ${file} holds no conversation with ${peerAddress}`);
  }
  // Grouped by peer, a peer's conversations (v1, v2, app contexts) as one thread, as `xmtp read` shows them.
  const peers = [...new Set(conversations.map((c) => c.peerAddress))];
  const threads = await Promise.all(
    peers.map(async (peer) => {
      const views = await Promise.all(
        conversations
          .filter((c) => c.peerAddress === peer)
          .map(async (conversation) => (await conversation.messages()).map((m) => toMessageView(m, conversation))),
      );
      const messages = views.flat().sort((a, b) => a.sent.getTime() - b.sent.getTime());
      return { peer, messages: limit === undefined ? messages : messages.slice(-limit) };
    }),
  );
  if (ctx.options.json) {
    return printJson(ctx, {
      address: reader.address,
      archive: { file, createdAt: reader.createdAt.toISOString() },
      threads: threads.map((t) => ({ peerAddress: t.peer, messages: t.messages.map(messageJson) })),
    });
  }
  if (threads.length === 0) print(ctx, `the archive ${file} holds no conversations`);
  for (const [i, thread] of threads.entries()) {
    if (peerAddress === undefined) print(ctx, `${i > 0 ? "\n" : ""}== ${thread.peer}`);
    if (thread.messages.length === 0) print(ctx, `no messages with ${thread.peer}`);
    for (const message of thread.messages) print(ctx, formatMessageLine(message, reader.address));
  }
}

async function stream(ctx: Context): Promise<void> {
  const session = await connect(ctx);
  const { client } = session;
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
      await addPeerNames(ctx, [view]);
      if (ctx.options.json) printJson(ctx, messageJson(view));
      else print(ctx, formatMessageLine(view, client.address, { showPeer: true }));
      keepReceivedGrants(ctx, session);
    }
  } finally {
    ctx.io.interrupt.removeEventListener("abort", stop);
  }
}

async function canMessage(ctx: Context, peerInput: string): Promise<number> {
  const peer = await resolvePeerInput(ctx, peerInput);
  const reachable = await ctx.io.canMessage(peer.address, ctx.options.apiUrl);
  if (ctx.options.json) printJson(ctx, { address: peer.address, ...(peer.name ? { name: peer.name } : {}), canMessage: reachable });
  else print(ctx, reachable ? `${peerText(peer)} is on the XMTP network` : `${peerText(peer)} is not on the XMTP network`);
  return reachable ? ExitCode.OK : ExitCode.NOT_ON_NETWORK;
}

const DAY_MS = 86_400_000;

async function grant(ctx: Context, peerInput: string, days: number, sendIt: boolean): Promise<void> {
  const peerAddress = (await resolvePeerInput(ctx, peerInput)).address;
  const { client } = await connect(ctx);
  if (peerAddress === client.address) {
    throw new CliError("USAGE", `${peerAddress} is your own address; a grant lets another wallet write to you`);
  }
  let conversation: ChatConversation | undefined;
  if (sendIt) {
    // Only an existing conversation: starting one would itself be a first message to them.
    const conversations = (await client.conversations.list()).filter((c) => c.peerAddress === peerAddress);
    conversation = conversations.find((c) => !c.context?.conversationId) ?? conversations[0];
    if (!conversation) {
      throw new CliError(
        "NO_CONVERSATION",
        `you have no conversation with ${peerAddress} to send the grant in; run "xmtp grant ${peerAddress}" without --send ` +
          `and give them the grant another way`,
      );
    }
  }
  const made: PostageGrant = await client.postage.grant(peerAddress, { expiresInMs: days * DAY_MS });
  let sent: ChatMessage | undefined;
  try {
    sent = conversation ? await conversation.send(made, { contentType: ContentTypePostageGrant }) : undefined;
  } catch (err) {
    // A v1 conversation's first message from this process also goes to the peer's intro topic, where postage applies.
    throw explainSendRefusal(err, { apiUrl: ctx.options.apiUrl, me: client.address, peer: peerAddress }) ?? err;
  }
  if (ctx.options.json) {
    return printJson(ctx, { ...storedGrantOf(made), sent: sent ? { id: sent.id, conversationTopic: conversation!.topic } : null });
  }
  print(ctx, `grant: ${peerAddress} may write first messages to you (${client.address}) free until ${expiryText(made)}`);
  if (sent) print(ctx, `sent it to ${peerAddress} in your conversation (message ${sent.id})`);
  print(ctx, `they run: xmtp accept-grant GRANT, with GRANT the line below`);
  print(ctx, made.base64);
}

async function acceptGrant(ctx: Context, grantArgument: string): Promise<void> {
  const text = (grantArgument === "-" ? await ctx.io.readStdin() : grantArgument).trim();
  if (text.length === 0) throw new CliError("USAGE", "accept-grant: GRANT is empty");
  const session = await connect(ctx);
  const { client, grants } = session;
  const accepted = client.postage.acceptGrant(text);
  grants.save(client.postage);
  // The grant is kept whatever the node's network; say when it does not open anything at this node.
  const quote = await client.postage.quote().catch(() => undefined);
  let note: string | undefined;
  if (quote?.postage === "off") {
    note = `the node at ${ctx.options.apiUrl} runs with postage off: first messages are free there anyway`;
  } else if (quote && (quote.chainId !== accepted.chainId || quote.vault !== accepted.vault)) {
    note =
      `the node at ${ctx.options.apiUrl} uses chain ${quote.chainId}, vault ${quote.vault}: this grant (chain ` +
      `${accepted.chainId}, vault ${accepted.vault}) does not make first messages free there`;
  }
  if (ctx.options.json) return printJson(ctx, { ...storedGrantOf(accepted), file: grants.path, ...(note ? { note } : {}) });
  print(ctx, `accepted the grant from ${accepted.grantor}: your first messages to them are free until ${expiryText(accepted)}`);
  print(ctx, `kept in ${grants.path}`);
  if (note) ctx.io.stderr(`xmtp: note: ${note}\n`);
}

/** Chain time (seconds) as the local time it names. */
function chainTime(seconds: bigint): string {
  return `${formatLocalTime(new Date(Number(seconds) * 1000))} (chain time)`;
}

function requirePayer(ctx: Context, action: PostageAction, rpcUrl: string | undefined): Payer {
  const payer = payerFromEnvironment(ctx, rpcUrl === undefined ? {} : { rpcUrl });
  if (!payer) {
    throw new CliError(
      "USAGE",
      `xmtp postage ${action} needs the payer's private key in XMTP_PAYER_KEY (0x + 64 hex digits; an environment ` +
        `variable, never a flag, since flags show in ps)`,
    );
  }
  if (rpcUrl === undefined) {
    throw new CliError("USAGE", `xmtp postage ${action} needs the payer's chain RPC: --rpc URL or XMTP_PAYER_RPC`);
  }
  return payer;
}

async function postageQuote(ctx: Context): Promise<void> {
  // The payer is optional here: with one, the node also says where it stands. No chain is needed to ask.
  const payer = payerFromEnvironment(ctx);
  const { client } = await connect(ctx, payer);
  const quote = await client.postage.quote();
  if (ctx.options.json) return printJson(ctx, { apiUrl: ctx.options.apiUrl, ...quoteJson(quote) });
  if (quote.postage === "off") {
    print(ctx, `postage at ${ctx.options.apiUrl}: off (first messages to strangers are free there)`);
    return;
  }
  print(ctx, `postage at ${ctx.options.apiUrl}: required for first messages to strangers`);
  print(ctx, `  price:    ${formatPrice(quote)}`);
  print(ctx, `  chain:    ${quote.chainId}`);
  print(ctx, `  vault:    ${quote.vault}`);
  print(ctx, `  operator: ${quote.operator} (deposits are for this operator; it is paid what you owe)`);
  const standing = quote.payer;
  if (standing) {
    const pending = standing.withdrawalPending ? ", withdrawal pending" : "";
    print(
      ctx,
      `  payer:    ${standing.address}: deposited ${standing.depositedWei} wei, owes ${standing.acceptedCumulativeWei} wei, ` +
        `redeemed ${standing.redeemedWei} wei${pending}`,
    );
  }
}

/** Who pays and into which vault channel, as every postage command prints it in --json. */
function payerChannelJson(payer: Payer, network: { operator: string; vault: string; chainId: bigint } | undefined) {
  return { payer: payer.address, operator: network?.operator ?? null, vault: network?.vault ?? null, chainId: network?.chainId.toString() ?? null };
}

async function postageBalance(ctx: Context, rpcUrl: string | undefined): Promise<void> {
  const payer = requirePayer(ctx, "balance", rpcUrl);
  const { client } = await connect(ctx, payer);
  const balance = await client.postage.balance();
  const quote = await client.postage.quote();
  const network = quote.postage === "required" ? quote : undefined;
  if (ctx.options.json) {
    return printJson(ctx, {
      ...payerChannelJson(payer, network),
      depositedWei: balance.deposited.toString(),
      owedWei: balance.owed.toString(),
      redeemedWei: balance.redeemed.toString(),
      availableWei: balance.available.toString(),
      withdrawalPending: balance.withdrawalPending,
      unlockAt: balance.withdrawalPending ? new Date(Number(balance.unlockAt) * 1000).toISOString() : null,
    });
  }
  const where = network ? ` with operator ${network.operator} (vault ${network.vault} on chain ${network.chainId})` : "";
  print(ctx, `payer ${payer.address}${where}`);
  print(ctx, `  deposited:  ${formatWei(balance.deposited)}`);
  print(ctx, `  owed:       ${formatWei(balance.owed)}, for the messages the node accepted so far`);
  print(ctx, `  redeemed:   ${formatWei(balance.redeemed)}, paid out to the operator`);
  print(ctx, `  available:  ${formatWei(balance.available)}, for further messages`);
  print(ctx, `  withdrawal: ${balance.withdrawalPending ? `pending, unlocks at ${chainTime(balance.unlockAt)}` : "none pending"}`);
}

async function postageDeposit(ctx: Context, amountWei: bigint, rpcUrl: string | undefined): Promise<void> {
  const payer = requirePayer(ctx, "deposit", rpcUrl);
  const { client } = await connect(ctx, payer);
  const transaction = await client.postage.deposit(amountWei);
  const [balance, quote] = await Promise.all([client.postage.balance(), client.postage.quote()]);
  const network = quote.postage === "required" ? quote : undefined;
  if (ctx.options.json) {
    return printJson(ctx, {
      ...payerChannelJson(payer, network),
      amountWei: amountWei.toString(),
      transaction: transaction.hash,
      blockNumber: transaction.blockNumber,
      depositedWei: balance.deposited.toString(),
      availableWei: balance.available.toString(),
    });
  }
  const where = network ? ` for operator ${network.operator} into vault ${network.vault} on chain ${network.chainId}` : "";
  print(ctx, `deposited ${formatWei(amountWei)}${where}`);
  print(ctx, `transaction ${transaction.hash} (block ${transaction.blockNumber})`);
  print(ctx, `available now: ${formatWei(balance.available)} (deposited ${balance.deposited} wei in all)`);
}

/**
 * Withdrawing is two steps with the vault's delay between them, so one command does whichever is due: with no
 * withdrawal pending it asks for one; with one pending it withdraws, or says how long the vault still locks it.
 */
async function postageWithdraw(ctx: Context, rpcUrl: string | undefined): Promise<number> {
  const payer = requirePayer(ctx, "withdraw", rpcUrl);
  const { client } = await connect(ctx, payer);
  const before = await client.postage.balance();
  if (!before.withdrawalPending) {
    if (before.deposited === before.redeemed) {
      throw new CliError(
        "POSTAGE",
        `nothing to withdraw: payer ${payer.address} has ${formatWei(before.deposited)} deposited for the node's operator, ` +
          `all of it paid out`,
      );
    }
    const transaction = await client.postage.requestWithdrawal();
    const after = await client.postage.balance();
    const unlockAt = after.unlockAt;
    if (ctx.options.json) {
      printJson(ctx, {
        action: "requested",
        payer: payer.address,
        transaction: transaction.hash,
        blockNumber: transaction.blockNumber,
        unlockAt: new Date(Number(unlockAt) * 1000).toISOString(),
        unlockAtSeconds: unlockAt.toString(),
        expectedWei: after.available.toString(),
      });
      return ExitCode.OK;
    }
    print(
      ctx,
      `requested a withdrawal of payer ${payer.address}'s deposit: transaction ${transaction.hash} (block ${transaction.blockNumber})`,
    );
    print(ctx, `it unlocks at ${chainTime(unlockAt)}; run "xmtp postage withdraw" again then to receive it`);
    const spent = after.owed > after.redeemed ? after.owed : after.redeemed;
    print(
      ctx,
      `you should receive ${formatWei(after.available)}: deposited ${after.deposited} wei, less the ${spent} wei owed to ` +
        `the operator, which it redeems before then`,
    );
    print(ctx, `until then the node takes no stamps from this deposit; "xmtp postage deposit" cancels the request`);
    return ExitCode.OK;
  }
  let transaction;
  try {
    transaction = await client.postage.withdraw();
  } catch (err) {
    if (err instanceof VaultRevertError && err.errorName === "WithdrawalLocked") {
      const unlockAt = BigInt(err.args.unlockAt as bigint);
      const now = BigInt(err.args.timestamp as bigint);
      throw new CliError(
        "POSTAGE",
        `the withdrawal is still locked: it unlocks at ${chainTime(unlockAt)}, in ${unlockAt - now} s; ` +
          `run "xmtp postage withdraw" again then. Nothing was withdrawn.`,
        { cause: err, details: { unlockAt: new Date(Number(unlockAt) * 1000).toISOString(), secondsLeft: (unlockAt - now).toString() } },
      );
    }
    throw err;
  }
  const amount = transaction.amountWei;
  if (ctx.options.json) {
    printJson(ctx, {
      action: "withdrawn",
      payer: payer.address,
      transaction: transaction.hash,
      blockNumber: transaction.blockNumber,
      amountWei: amount?.toString() ?? null,
    });
    return ExitCode.OK;
  }
  const what = amount === undefined ? "the deposit not paid out" : formatWei(amount);
  print(ctx, `withdrew ${what} to payer ${payer.address}: transaction ${transaction.hash} (block ${transaction.blockNumber})`);
  return ExitCode.OK;
}

async function postage(ctx: Context, command: Extract<Command, { name: "postage" }>): Promise<number> {
  switch (command.action) {
    case "quote":
      await postageQuote(ctx);
      return ExitCode.OK;
    case "balance":
      await postageBalance(ctx, command.rpcUrl);
      return ExitCode.OK;
    case "deposit":
      await postageDeposit(ctx, command.amountWei, command.rpcUrl);
      return ExitCode.OK;
    case "withdraw":
      return postageWithdraw(ctx, command.rpcUrl);
  }
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
    case "whoami":
      whoami(ctx);
      return ExitCode.OK;
    case "send":
      await send(ctx, command.peerAddress, command.text, command.maxPriceWei);
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
    case "export":
      await exportCommand(ctx, command.file);
      return ExitCode.OK;
    case "import":
      return importCommand(ctx, command.file);
    case "read-archive":
      await readArchiveCommand(ctx, command.file, command.peerAddress, command.limit);
      return ExitCode.OK;
    case "chat":
      // Interactive (chat.ts): peers, names and the connection as for `send`.
      return chatCommand(
        {
          io: ctx.io,
          options: ctx.options,
          resolvePeer: (input) => resolvePeerInput(ctx, input),
          connect: async () => {
            const payer = payerFromEnvironment(ctx);
            const session = await connect(ctx, payer);
            return { client: session.client, keepGrants: () => keepReceivedGrants(ctx, session), payerAddress: payer?.address };
          },
          nameOf: (address) => peerNames(ctx).nameOf(address),
        },
        command.peerAddress,
      );
    case "can-message":
      return canMessage(ctx, command.peerAddress);
    case "postage":
      return postage(ctx, command);
    case "grant":
      await grant(ctx, command.peerAddress, command.days, command.send);
      return ExitCode.OK;
    case "accept-grant":
      await acceptGrant(ctx, command.grant);
      return ExitCode.OK;
    case "broadcast":
      return broadcastCommand(ctx.io, ctx.options, command);
  }
}

function reportError(io: CliIo, json: boolean, error: CliError): void {
  if (json) {
    const details = error.details ? { details: error.details } : {};
    io.stderr(JSON.stringify({ error: { kind: error.kind, exitCode: error.exitCode, message: error.message, ...details } }) + "\n");
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
  let rpcUrl: string | undefined;
  try {
    const { command, options } = parseCommandLine(argv, io.env);
    apiUrl = options.apiUrl;
    if (command.name === "postage") rpcUrl = command.rpcUrl;
    return await execute({ io, options }, command);
  } catch (err) {
    const error = postageCliError(err, { apiUrl, rpcUrl }) ?? toCliError(err, { apiUrl });
    reportError(io, json, error);
    return error.exitCode;
  }
}
