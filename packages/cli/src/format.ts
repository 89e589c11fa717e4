// How the CLI prints things: for people (aligned text, local times) or for scripts (--json).

export interface MessageView {
  id: string;
  conversationTopic: string;
  peerAddress: string;
  senderAddress: string;
  sent: Date;
  /** The text, or undefined when the content is not text (then fallback/contentType say what it was). */
  text: string | undefined;
  contentType: string;
  fallback?: string;
  error?: string;
  /** The peer's verified name (ENS); null: none; absent: names not looked up (no --eth-rpc-url). */
  peerName?: string | null;
}

export interface ConversationView {
  peerAddress: string;
  topic: string;
  version: string;
  createdAt: Date;
  conversationId?: string;
  latestMessage?: MessageView;
  /** As MessageView.peerName. */
  peerName?: string | null;
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/** Local time as "YYYY-MM-DD HH:MM:SS": what a person at the terminal reads their clock as. */
export function formatLocalTime(date: Date): string {
  return (
    `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ` +
    `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`
  );
}

/**
 * Makes untrusted text safe to print on a terminal: any peer can send escape sequences that would recolour,
 * retitle or rewrite the screen, so control characters (except newline and tab) are shown as \u{..} escapes.
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    return `\\u{${c.codePointAt(0)!.toString(16)}}`;
  });
}

/** What a message shows as in text output when it is not plain text. */
export function messageBody(message: MessageView): string {
  if (message.error) return `[cannot decode message: ${message.error}]`;
  if (message.text !== undefined) return message.text;
  if (message.fallback) return `[${message.contentType}] ${message.fallback}`;
  return `[${message.contentType} content]`;
}

/** The peer as a person reads it: its verified name instead of the address when there is one. */
function peerLabel(address: string, name: string | null | undefined): string {
  return name ? terminalSafe(name) : address;
}

function who(message: MessageView, myAddress: string): string {
  if (message.senderAddress === myAddress) return "me";
  return message.senderAddress === message.peerAddress ? peerLabel(message.senderAddress, message.peerName) : message.senderAddress;
}

/** One message line: "<time>  <sender>: <text>", continuation lines indented under the text. */
export function formatMessageLine(message: MessageView, myAddress: string, options: { showPeer?: boolean } = {}): string {
  let sender = who(message, myAddress);
  if (options.showPeer && message.senderAddress === myAddress) sender = `me → ${peerLabel(message.peerAddress, message.peerName)}`;
  const prefix = `${formatLocalTime(message.sent)}  ${sender}: `;
  const body = terminalSafe(messageBody(message)).split("\n");
  return prefix + body.join("\n" + " ".repeat(21));
}

export function formatConversationLine(conversation: ConversationView, myAddress: string): string {
  const id = conversation.conversationId ? ` [${terminalSafe(conversation.conversationId)}]` : "";
  const latest = conversation.latestMessage;
  // The name, when verified, leads; the address stays beside it (a list is where a person finds addresses).
  const peer = conversation.peerName ? `${terminalSafe(conversation.peerName)} (${conversation.peerAddress})` : conversation.peerAddress;
  if (!latest) return `${peer}${id}  (no messages yet)`;
  const preview = terminalSafe(messageBody(latest)).replace(/\s+/g, " ");
  const clipped = preview.length > 60 ? preview.slice(0, 59) + "…" : preview;
  // The peer's address already leads the line; only the user's own messages need saying whose they are.
  const mine = latest.senderAddress === myAddress ? "me: " : "";
  return `${peer}${id}  ${formatLocalTime(latest.sent)}  ${mine}${clipped}`;
}

export function messageJson(message: MessageView): Record<string, unknown> {
  return {
    id: message.id,
    conversationTopic: message.conversationTopic,
    peerAddress: message.peerAddress,
    ...(message.peerName !== undefined ? { peerName: message.peerName } : {}),
    senderAddress: message.senderAddress,
    sent: message.sent.toISOString(),
    contentType: message.contentType,
    content: message.text ?? null,
    ...(message.fallback !== undefined ? { fallback: message.fallback } : {}),
    ...(message.error !== undefined ? { error: message.error } : {}),
  };
}

export function conversationJson(conversation: ConversationView): Record<string, unknown> {
  return {
    peerAddress: conversation.peerAddress,
    ...(conversation.peerName !== undefined ? { peerName: conversation.peerName } : {}),
    topic: conversation.topic,
    version: conversation.version,
    createdAt: conversation.createdAt.toISOString(),
    conversationId: conversation.conversationId ?? null,
    latestMessage: conversation.latestMessage ? messageJson(conversation.latestMessage) : null,
  };
}

/**
 * Progress of a long command on stderr: on a terminal one line redrawn in place (a bar, at most every 100 ms, and the
 * final state); elsewhere (a log, a pipe) plain lines, at most one a second, and the final one.
 */
export class ProgressLine {
  private last = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(
    private readonly write: (text: string) => void,
    private readonly tty: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** `done` of `total` (the bar on a terminal; `detail` says the figures in words, on a terminal and elsewhere). */
  update(label: string, done: number, total: number, detail: string, final = false): void {
    const now = this.now();
    if (!final && now - this.last < (this.tty ? 100 : 1000)) return;
    this.last = now;
    if (this.tty) {
      this.write(`\r${progressBar(done, total)} ${label} ${detail}\x1b[K`);
      this.drawn = true;
    } else {
      this.write(`${label}: ${detail}\n`);
    }
  }

  /** Ends the redrawn line, so that what follows starts on its own line. */
  end(): void {
    if (this.tty && this.drawn) this.write("\n");
    this.drawn = false;
  }
}

/** `[#########-----------]  45%`: `width` cells. */
export function progressBar(done: number, total: number, width = 24): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`;
}
