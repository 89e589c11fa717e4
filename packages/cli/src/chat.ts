// `xmtp chat ADDRESS|NAME`: one conversation, interactively. Shows the recent messages, then the new ones as they
// arrive while reading lines from the terminal and sending each one (README "Chat"). On a terminal the input line
// is redrawn below anything printed while the user types, so incoming messages never garble what is being typed.
import { clearScreenDown, createInterface, cursorTo, moveCursor, type Interface } from "node:readline";
import type { MessageStreamShape } from "@xmtp-ts/client";
import type { ChatClient, ChatConversation, ChatMessage } from "./chatClient.js";
import { toMessageView } from "./chatClient.js";
import { CliError, ExitCode, toCliError } from "./errors.js";
import { formatMessageLine, terminalSafe, type MessageView } from "./format.js";
import type { GlobalOptions } from "./args.js";
import type { CliIo } from "./run.js";
import { explainSendRefusal } from "./postageErrors.js";

/** How many earlier messages the chat shows when it opens. */
export const CHAT_HISTORY = 20;
export const CHAT_PROMPT = "> ";

/** What `xmtp chat` needs from the command runner (run.ts): the same peer resolution and connection as `send`. */
export interface ChatDeps {
  io: CliIo;
  options: GlobalOptions;
  /** The peer's address from an address or a name (names through --eth-rpc-url); `name` when a name was typed. */
  resolvePeer(input: string): Promise<{ address: string; name?: string }>;
  /** Connects (with the payer from XMTP_PAYER_KEY, if any); `keepGrants` keeps grants received in messages. */
  connect(): Promise<{ client: ChatClient; keepGrants(): void; payerAddress?: string }>;
  /** The peer's verified name: undefined when names are off, null when it has none. */
  nameOf(address: string): Promise<string | null | undefined>;
  /** The terminal; process.stdin / process.stdout when not given. */
  terminal?: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream; isTTY: boolean };
}

/** What a line typed at the prompt asks for. */
export type ChatInput = { kind: "send"; text: string } | { kind: "quit" } | { kind: "help" } | { kind: "nothing" } | { kind: "unknown"; command: string };

/**
 * A typed line: text to send, or a command. Lines starting with "/" are commands (/quit, /help); "//" sends a line
 * that starts with "/". Blank lines send nothing. The text is sent as typed (no trimming inside it).
 */
export function parseChatInput(line: string): ChatInput {
  const text = line.replace(/\r$/, "");
  if (text.trim() === "") return { kind: "nothing" };
  if (text.startsWith("//")) return { kind: "send", text: text.slice(1) };
  if (text.startsWith("/")) {
    const command = text.trim().split(/\s+/)[0].toLowerCase();
    if (command === "/quit" || command === "/exit" || command === "/q") return { kind: "quit" };
    if (command === "/help" || command === "/?") return { kind: "help" };
    return { kind: "unknown", command };
  }
  return { kind: "send", text };
}

/**
 * Rows the input line takes on a terminal `columns` wide, `width` characters with the prompt, the cursor after it
 * included: readline moves the cursor to a new row as soon as a row is full, so a line that fills its row exactly
 * takes one more.
 */
export function rowsOf(width: number, columns: number): number {
  if (columns <= 0) return 1;
  return Math.floor(width / columns) + 1;
}

/** Columns a code point takes: 2 for East Asian wide and most emoji, 0 for combining marks, else 1. */
function columnsOf(code: number): number {
  if ((code >= 0x300 && code <= 0x36f) || (code >= 0x200b && code <= 0x200f) || code === 0xfe0f) return 0;
  const wide =
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf && code !== 0x303f) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f900 && code <= 0x1f9ff) ||
    (code >= 0x20000 && code <= 0x3fffd);
  return wide ? 2 : 1;
}

/** Display width of typed text, as a terminal lays it out (close to readline's own count). */
export function widthOf(text: string): number {
  let width = 0;
  for (const char of text) width += columnsOf(char.codePointAt(0)!);
  return width;
}

export const CHAT_HELP =
  "type a message and press Enter to send it; /quit, Ctrl-D or Ctrl-C leaves; a line starting with // sends it " +
  "with one / (\"//shrug\" sends \"/shrug\")";

/**
 * The screen of a chat: lines printed above the input line. On a terminal the input line (prompt and what is typed
 * so far, possibly wrapped over several rows) is erased, the text printed, and the input line drawn again below it.
 */
class ChatScreen {
  private open = true;

  constructor(
    private readonly rl: Interface,
    private readonly output: NodeJS.WritableStream,
    private readonly isTTY: boolean,
  ) {}

  private get columns(): number {
    return (this.output as NodeJS.WriteStream).columns ?? 80;
  }

  /** After this the input line is gone: text is printed as plain lines. */
  close(): void {
    this.open = false;
  }

  /** Prints `text` (one or more lines) above the input line. */
  print(text: string): void {
    if (!this.isTTY || !this.open) {
      this.output.write(text + "\n");
      return;
    }
    // Back to where the prompt starts, wipe the input line, print, then let readline draw it again (cursor kept).
    const { rows } = this.rl.getCursorPos();
    if (rows > 0) moveCursor(this.output, 0, -rows);
    cursorTo(this.output, 0);
    clearScreenDown(this.output);
    // readline's redraw first moves up as many rows as it last drew the cursor below the prompt's first row (its
    // `prevRows`, which it does not update while text is simply appended): give it those rows to move through.
    const redrawMovesUp = (this.rl as unknown as { prevRows?: number }).prevRows ?? 0;
    this.output.write(text + "\n" + "\n".repeat(redrawMovesUp));
    this.rl.prompt(true);
  }

  /** Shows the prompt (on a terminal; piped input gets none). */
  prompt(): void {
    if (this.isTTY && this.open) this.rl.prompt();
  }

  /** Erases the line just entered (readline leaves it on the screen, wrapped over as many rows as it took). */
  eraseEntered(line: string): void {
    if (!this.isTTY || !this.open) return;
    const rows = rowsOf(widthOf(CHAT_PROMPT) + widthOf(line), this.columns);
    moveCursor(this.output, 0, -rows);
    cursorTo(this.output, 0);
    clearScreenDown(this.output);
  }
}

export async function chatCommand(deps: ChatDeps, peerInput: string): Promise<number> {
  const { io, options } = deps;
  const peer = await deps.resolvePeer(peerInput);
  const { client, keepGrants, payerAddress } = await deps.connect();
  if (peer.address === client.address) {
    throw new CliError("USAGE", `${peer.address} is your own address; XMTP conversations need another wallet`);
  }
  if (!(await client.canMessage(peer.address))) {
    throw new CliError(
      "NOT_ON_NETWORK",
      `${peer.address} is not on the XMTP network at ${options.apiUrl} (it has never run "xmtp init" or an XMTP app)`,
    );
  }
  const peerName = peer.name ?? (await deps.nameOf(peer.address)) ?? undefined;
  const me = client.address;

  // A peer can have several conversations (v1, v2, one per app context): shown as one thread, sent in the plain one.
  const existing = (await client.conversations.list()).filter((c) => c.peerAddress === peer.address);
  let sendIn: ChatConversation | undefined = existing.find((c) => !c.context?.conversationId) ?? existing[0];
  const pages = await Promise.all(
    existing.map(async (c) => (await c.messages({ limit: CHAT_HISTORY, direction: "descending" })).map((m) => toMessageView(m, c))),
  );
  const history = pages
    .flat()
    .sort((a, b) => a.sent.getTime() - b.sent.getTime())
    .slice(-CHAT_HISTORY);
  const shown = new Set<string>();
  const line = (view: MessageView) => formatMessageLine({ ...view, peerName: peerName ?? null }, me);

  const input = deps.terminal?.input ?? process.stdin;
  const output = deps.terminal?.output ?? process.stdout;
  const isTTY = deps.terminal?.isTTY ?? (process.stdin.isTTY === true && process.stdout.isTTY === true);
  const label = peerName ? `${terminalSafe(peerName)} (${peer.address})` : peer.address;

  output.write(`chat with ${label} as ${me} on ${options.apiUrl}\n`);
  output.write(`${CHAT_HELP}\n`);
  if (history.length === 0) output.write(`no messages with ${label} yet\n`);
  else output.write(`-- the last ${history.length} message${history.length === 1 ? "" : "s"} --\n`);
  for (const view of history) {
    shown.add(view.id);
    output.write(line(view) + "\n");
  }
  keepGrants();

  const rl = createInterface({ input, output, terminal: isTTY, prompt: CHAT_PROMPT, historySize: 100 });
  const screen = new ChatScreen(rl, output, isTTY);
  const closed = new Promise<void>((resolve) =>
    rl.once("close", () => {
      screen.close();
      resolve();
    }),
  );
  // Ctrl-C on a terminal in raw mode reaches readline, not the process: it ends the chat like Ctrl-D.
  rl.on("SIGINT", () => rl.close());
  const stop = () => rl.close();
  io.interrupt.addEventListener("abort", stop, { once: true });
  // Interrupted while connecting (SIGINT before the terminal was in raw mode, or SIGTERM): leave at once.
  if (io.interrupt.aborted) rl.close();

  const show = (message: ChatMessage, conversation?: ChatConversation) => {
    if (shown.has(message.id)) return;
    shown.add(message.id);
    screen.print(line(toMessageView(message, conversation)));
  };

  // Sends go out one after another, in the order typed; the prompt stays free meanwhile.
  let sending: Promise<void> = Promise.resolve();
  let pending = 0;
  const send = (text: string) => {
    pending++;
    sending = sending.then(async () => {
      try {
        sendIn ??= await client.conversations.newConversation(peer.address);
        const sent = await sendIn.send(text);
        show(sent, sendIn);
      } catch (error) {
        const reason = (
          explainSendRefusal(error, { apiUrl: options.apiUrl, me, peer: peer.address, payer: payerAddress }) ??
          toCliError(error, { apiUrl: options.apiUrl })
        ).message;
        screen.print(`xmtp: not sent: ${terminalSafe(text)}\n  ${reason.replace(/\n/g, "\n  ")}`);
      } finally {
        pending--;
      }
    });
  };

  // Listening from the start: lines typed (or piped) while the stream connects are kept, not dropped.
  rl.on("line", (typed: string) => {
    const request = parseChatInput(typed);
    screen.eraseEntered(typed);
    switch (request.kind) {
      case "quit":
        rl.close();
        return;
      case "help":
        screen.print(CHAT_HELP);
        return;
      case "unknown":
        screen.print(`unknown command ${terminalSafe(request.command)}: ${CHAT_HELP}`);
        return;
      case "nothing":
        screen.prompt();
        return;
      case "send":
        send(request.text);
        screen.prompt();
        return;
    }
  });

  let messages: MessageStreamShape<ChatMessage> | undefined;
  try {
    messages = await client.conversations.streamAllMessages((error) => {
      screen.print(`xmtp: lost the connection to the node (${toCliError(error, { apiUrl: options.apiUrl }).message}); reconnecting`);
    });
  } catch (error) {
    rl.close();
    throw error;
  }
  const stream = messages;
  // Incoming messages (and this wallet's own, sent from elsewhere), as they arrive.
  const streaming = (async () => {
    for await (const message of stream) {
      if (message.conversation?.peerAddress !== peer.address) continue;
      show(message);
      keepGrants();
    }
  })().catch((error: unknown) => {
    screen.print(`xmtp: the message stream stopped: ${toCliError(error, { apiUrl: options.apiUrl }).message}`);
  });

  screen.prompt();
  await closed;
  io.interrupt.removeEventListener("abort", stop);
  if (isTTY) output.write("\n");
  if (pending > 0) output.write(`sending ${pending} more message${pending === 1 ? "" : "s"} before leaving…\n`);
  await sending;
  await stream.return(undefined);
  await streaming;
  keepGrants();
  output.write(`left the chat with ${label}\n`);
  return ExitCode.OK;
}
