import { h } from "./dom.js";
import { fullTime, shortAddress, shortTime } from "./format.js";
import {
  explainGrantError,
  loadSavedGrants,
  noticeForOutlook,
  noticeForRefusal,
  postageOutlook,
  saveGrants,
  type PostageNotice,
  type PostageOutlook,
  type PostageRefusalInput,
} from "./postage.js";
import {
  connectBrowserWallet,
  developmentWallet,
  forgetDevelopmentWallet,
  savedDevelopmentWallet,
  type ConnectedWallet,
  type Eip1193Provider,
} from "./wallets.js";
import {
  createChatClient,
  explainError,
  nodeAnswers,
  parsePeerAddress,
  postageRefusalOf,
  type ChatClient,
  type ChatConversation,
  type ChatMessage,
  type ChatStream,
} from "./xmtp.js";

export interface AppConfig {
  apiUrl: string;
  storage: Storage;
  /** The browser wallet (window.ethereum), when there is one. */
  ethereum?: Eip1193Provider;
  /** Remembers the node URL the user typed. */
  saveApiUrl(url: string): void;
  /** Settles once the crypto back end is chosen (libsecp256k1 loaded, or noble kept): connecting waits for it. */
  cryptoReady?: Promise<unknown>;
}

interface ConversationEntry {
  conversation: ChatConversation;
  latest?: ChatMessage;
  unread: number;
  /** The whole thread once opened; undefined until then (the list only needs the latest message). */
  messages?: ChatMessage[];
  loadingMessages: boolean;
}

/**
 * A conversation not started yet, shown while postage is on: it starts with the first message, once the user has
 * seen what that costs (or why it is free). Only one at a time; shown when no conversation is selected.
 */
interface Draft {
  peer: string;
  outlook: PostageOutlook;
  /** The node refused the first message for postage. */
  refusal?: PostageRefusalInput;
  sending: boolean;
}

interface Session {
  wallet: ConnectedWallet;
  client: ChatClient;
  apiUrl: string;
  entries: Map<string, ConversationEntry>;
  selectedTopic?: string;
  draft?: Draft;
  loadingList: boolean;
  streams: ChatStream<unknown>[];
  closed: boolean;
}

const RESTART_STREAM_MS = 3000;

/** Text shown for a message in the list and thread: its text, or what it was if not text. */
function messageText(message: ChatMessage): string {
  if (message.error) return "⚠ This message could not be decrypted or verified.";
  if (typeof message.content === "string") return message.content;
  if (message.contentFallback) return message.contentFallback;
  return "(a message this app cannot display)";
}

/** A stable colour per address, so people recognise each other at a glance. */
function avatar(address: string, size: "small" | "large" = "small"): HTMLElement {
  const hue = parseInt(address.slice(2, 8), 16) % 360;
  return h(
    "span",
    { class: `avatar ${size}`, style: `background: hsl(${hue} 65% 45%)`, "aria-hidden": "true" },
    address.slice(2, 4).toUpperCase(),
  );
}

/** The terms a refusal came with, as the outlook shown beside it (unknown when the node sent none). */
function outlookOfRefusal(refusal: PostageRefusalInput): PostageOutlook {
  return refusal.quote ? { kind: "required", quote: refusal.quote } : { kind: "unknown" };
}

export class ChatApp {
  private session?: Session;
  private errorMessage?: string;
  /** Set while a live stream is reconnecting; cleared by the next thing that reaches the node. */
  private connectionNotice?: string;
  private watchingConnection = false;
  private status?: string;
  private busy = false;
  private readonly onAccountsChanged = () => {
    if (this.session?.wallet.kind === "browser") {
      this.disconnect("Your wallet switched accounts. Connect again to chat as the new account.");
    }
  };

  // Elements that survive re-renders, so typing and focus are never lost.
  private readonly composerInput = h("textarea", {
    class: "composer-input",
    rows: 1,
    placeholder: "Write a message…",
    "aria-label": "Message",
    "data-testid": "composer-input",
  });
  private readonly newConversationInput = h("input", {
    class: "new-conversation-input",
    type: "text",
    spellcheck: "false",
    autocomplete: "off",
    placeholder: "0x… address to message",
    "aria-label": "Address to message",
    "data-testid": "new-conversation-address",
  });
  private readonly apiUrlInput = h("input", {
    class: "api-url-input",
    type: "url",
    spellcheck: "false",
    "aria-label": "Node URL",
    "data-testid": "api-url",
  });
  private readonly grantInput = h("input", {
    class: "grant-input",
    type: "text",
    spellcheck: "false",
    autocomplete: "off",
    placeholder: "Paste a relationship grant (base64)",
    "aria-label": "Relationship grant",
    "data-testid": "postage-grant-input",
  });
  private messagesElement?: HTMLElement;

  constructor(
    private readonly root: HTMLElement,
    private readonly config: AppConfig,
  ) {
    this.apiUrlInput.value = config.apiUrl;
    this.composerInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        void this.sendMessage();
      }
    });
    this.composerInput.addEventListener("input", () => this.fitComposer());
    config.ethereum?.on?.("accountsChanged", this.onAccountsChanged);
    this.render();
  }

  // ── actions ────────────────────────────────────────────────────────────────────────────────────────────────

  private async connect(kind: ConnectedWallet["kind"]): Promise<void> {
    if (this.busy) return;
    const apiUrl = this.apiUrlInput.value.trim().replace(/\/+$/, "");
    try {
      const url = new URL(apiUrl);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error();
    } catch {
      this.showError(`"${apiUrl}" is not a node URL. It should look like http://localhost:5555.`);
      return;
    }
    this.config.saveApiUrl(apiUrl);
    this.busy = true;
    this.errorMessage = undefined;
    try {
      let wallet: ConnectedWallet;
      if (kind === "browser") {
        if (!this.config.ethereum) throw new Error("No browser wallet was found. Install one, or use a development wallet.");
        this.setStatus("Waiting for your wallet to share an account…");
        wallet = await connectBrowserWallet(this.config.ethereum);
        this.setStatus("Sign in with your wallet: it asks you to sign XMTP's identity message(s).");
      } else {
        wallet = developmentWallet(this.config.storage);
        this.setStatus(`Connecting development wallet ${shortAddress(wallet.address)}…`);
      }
      // A client made before libsecp256k1 is in use would open its invitations on noble, far slower.
      await this.config.cryptoReady?.catch(() => undefined);
      const client = await createChatClient(wallet.signer, apiUrl);
      this.restoreGrants(client);
      this.session = {
        wallet,
        client,
        apiUrl,
        entries: new Map(),
        loadingList: true,
        streams: [],
        closed: false,
      };
      this.status = undefined;
      this.render();
      void this.loadConversations(this.session);
      this.startStreams(this.session);
    } catch (err) {
      this.status = undefined;
      this.showError(explainError(err, apiUrl));
    } finally {
      this.busy = false;
      this.render();
    }
  }

  private disconnect(reason?: string): void {
    const session = this.session;
    if (session) {
      session.closed = true;
      // The database closes once the streams have stopped writing to it.
      void Promise.allSettled(session.streams.map((stream) => stream.return(undefined)))
        .then(() => session.client.close())
        .catch(() => {});
    }
    this.session = undefined;
    this.errorMessage = reason;
    this.connectionNotice = undefined;
    this.composerInput.value = "";
    this.newConversationInput.value = "";
    this.grantInput.value = "";
    document.title = "XMTP chat";
    this.render();
  }

  private async loadConversations(session: Session): Promise<void> {
    try {
      // What the inbox database holds shows at once (a reload lists without waiting for the node); the sync then
      // adds what is new, which on a first visit is everything.
      const stored = await this.storedConversations(session);
      for (const conversation of stored) this.entryFor(session, conversation);
      if (stored.length > 0) {
        session.loadingList = false;
        this.renderIfCurrent(session);
      }
      const storedPreviews = this.loadLatestMessages(session, [...session.entries.values()]);
      // Reported when awaited below; until then a failing sync must not leave it unhandled.
      storedPreviews.catch(() => undefined);
      const conversations = await session.client.conversations.list();
      const fresh = conversations.filter((conversation) => !session.entries.has(conversation.topic));
      for (const conversation of conversations) this.entryFor(session, conversation);
      session.loadingList = false;
      this.renderIfCurrent(session);
      const freshEntries = fresh.map((conversation) => this.entryFor(session, conversation));
      await Promise.all([storedPreviews, this.loadLatestMessages(session, freshEntries)]);
    } catch (err) {
      session.loadingList = false;
      if (!session.closed) this.showError(`Could not load your conversations. ${explainError(err, session.apiUrl)}`);
    }
  }

  /** The conversations in the inbox database; none if it cannot be read (the sync with the node follows anyway). */
  private async storedConversations(session: Session): Promise<ChatConversation[]> {
    try {
      return await session.client.conversations.listStored();
    } catch (err) {
      console.warn("XMTP chat: could not read the inbox database; listing from the node.", err);
      return [];
    }
  }

  /** Latest messages a few at a time: the list fills in without flooding the node. */
  private async loadLatestMessages(session: Session, entries: ConversationEntry[]): Promise<void> {
    const queue = [...entries];
    const worker = async () => {
      for (let entry = queue.shift(); entry && !session.closed; entry = queue.shift()) {
        const [latest] = await entry.conversation.messages({ limit: 1, direction: "descending" });
        if (latest) this.noteLatest(entry, latest);
        this.renderIfCurrent(session);
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
  }

  private startStreams(session: Session): void {
    // The client reconnects and fills the gap by itself; the notice tells the user why nothing arrives meanwhile.
    const onConnectionLost = () => {
      if (session.closed || this.session !== session) return;
      this.connectionNotice = `Lost the connection to the node at ${session.apiUrl}. Reconnecting…`;
      this.render();
      this.watchForReconnection(session);
    };
    this.consume(session, () => session.client.conversations.stream(onConnectionLost), (conversation) => {
      this.entryFor(session, conversation);
    });
    this.consume(session, () => session.client.conversations.streamAllMessages(onConnectionLost), (message) => {
      this.receive(session, message);
    });
  }

  /** Clears the connection notice once the node answers again, even if nothing new arrives to say so. */
  private watchForReconnection(session: Session): void {
    if (this.watchingConnection) return;
    this.watchingConnection = true;
    const watch = async () => {
      while (this.connectionNotice && !session.closed && this.session === session) {
        await new Promise((resolve) => setTimeout(resolve, RESTART_STREAM_MS));
        try {
          await nodeAnswers(session.client.address, session.apiUrl);
          this.connectionNotice = undefined;
          this.renderIfCurrent(session);
        } catch {
          // Still down; the notice stays.
        }
      }
      this.watchingConnection = false;
    };
    void watch();
  }

  /** Runs a live stream for the session's lifetime, restarting it (and saying so) if it fails. */
  private consume<T>(session: Session, open: () => Promise<ChatStream<T>>, onItem: (item: T) => void): void {
    const run = async () => {
      while (!session.closed) {
        try {
          const stream = await open();
          if (session.closed) {
            await stream.return(undefined);
            return;
          }
          session.streams.push(stream as ChatStream<unknown>);
          for await (const item of stream) {
            if (session.closed) break;
            this.connectionNotice = undefined;
            onItem(item);
            this.renderIfCurrent(session);
          }
          session.streams = session.streams.filter((s) => s !== (stream as ChatStream<unknown>));
          if (session.closed) return;
        } catch (err) {
          if (session.closed) return;
          this.showError(`Live updates were interrupted; reconnecting. ${explainError(err, session.apiUrl)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, RESTART_STREAM_MS));
      }
    };
    void run();
  }

  private entryFor(session: Session, conversation: ChatConversation): ConversationEntry {
    let entry = session.entries.get(conversation.topic);
    if (!entry) {
      entry = { conversation, unread: 0, loadingMessages: false };
      session.entries.set(conversation.topic, entry);
    }
    return entry;
  }

  private noteLatest(entry: ConversationEntry, message: ChatMessage): void {
    if (!entry.latest || entry.latest.sent.getTime() <= message.sent.getTime()) entry.latest = message;
  }

  private addToThread(entry: ConversationEntry, message: ChatMessage): boolean {
    this.noteLatest(entry, message);
    if (!entry.messages) return true;
    if (entry.messages.some((m) => m.id === message.id)) return false;
    entry.messages.push(message);
    entry.messages.sort((a, b) => a.sent.getTime() - b.sent.getTime());
    return true;
  }

  private receive(session: Session, message: ChatMessage): void {
    const conversation = message.conversation;
    if (!conversation) return;
    const entry = this.entryFor(session, conversation);
    // A stream may hand over a message the list already showed (after a reconnect it re-reads a short window).
    const known = entry.latest !== undefined && (entry.latest.id === message.id || message.sent < entry.latest.sent);
    const isNew = this.addToThread(entry, message) && !known;
    const mine = message.senderAddress === session.client.address;
    if (isNew && !mine && session.selectedTopic !== conversation.topic) entry.unread++;
  }

  private async select(topic: string): Promise<void> {
    const session = this.session;
    const entry = session?.entries.get(topic);
    if (!session || !entry) return;
    session.selectedTopic = topic;
    session.draft = undefined;
    entry.unread = 0;
    this.render();
    this.composerInput.focus();
    if (entry.messages || entry.loadingMessages) return;
    entry.loadingMessages = true;
    this.render();
    try {
      const history = await entry.conversation.messages();
      // Messages may have streamed in while the history loaded; keep both, once each.
      const streamed = entry.messages ?? [];
      entry.messages = [...history];
      for (const message of streamed) this.addToThread(entry, message);
      entry.messages.sort((a, b) => a.sent.getTime() - b.sent.getTime());
      const last = entry.messages[entry.messages.length - 1];
      if (last) this.noteLatest(entry, last);
    } catch (err) {
      this.showError(`Could not load the messages. ${explainError(err, session.apiUrl)}`);
    } finally {
      entry.loadingMessages = false;
      this.renderIfCurrent(session);
    }
  }

  private async startConversation(): Promise<void> {
    const session = this.session;
    if (!session || this.busy) return;
    let peer: string;
    try {
      peer = parsePeerAddress(this.newConversationInput.value);
    } catch (err) {
      this.showError((err as Error).message);
      return;
    }
    if (peer === session.client.address) {
      this.showError("That is your own address. Enter someone else's address to start a conversation.");
      return;
    }
    this.busy = true;
    this.errorMessage = undefined;
    this.render();
    try {
      if (!(await session.client.canMessage(peer))) {
        this.showError(
          `${peer} is not on the XMTP network yet. They need to connect to this node once (with this app or "xmtp init") before you can message them.`,
        );
        return;
      }
      // A conversation we already have costs nothing to open again (no invitation is sent).
      const existing = await this.existingConversationWith(session, peer);
      const outlook = existing ? undefined : await this.outlookFor(session, peer);
      if (outlook && (outlook.kind === "required" || outlook.kind === "free")) {
        // The node charges strangers: the conversation starts with the first message, once the user has read
        // what it costs, or why it is free.
        this.newConversationInput.value = "";
        this.openDraft(session, { peer, outlook, sending: false });
        return;
      }
      let conversation: ChatConversation;
      try {
        conversation = existing ?? (await session.client.conversations.newConversation(peer));
      } catch (err) {
        // The terms said nothing was due (or could not be read) but the node refused anyway: explain it in the thread.
        const refusal = postageRefusalOf(err);
        if (!refusal) throw err;
        this.newConversationInput.value = "";
        this.openDraft(session, { peer, outlook: outlookOfRefusal(refusal), refusal, sending: false });
        return;
      }
      this.entryFor(session, conversation);
      this.newConversationInput.value = "";
      await this.select(conversation.topic);
    } catch (err) {
      this.showError(`Could not start the conversation. ${explainError(err, session.apiUrl)}`);
    } finally {
      this.busy = false;
      this.renderIfCurrent(session);
    }
  }

  /** The conversation with `peer` we already have (no conversation id), after catching up with the network. */
  private async existingConversationWith(session: Session, peer: string): Promise<ChatConversation | undefined> {
    try {
      for (const conversation of await session.client.conversations.list()) this.entryFor(session, conversation);
    } catch {
      // The list as it stands; newConversation looks again.
    }
    for (const entry of session.entries.values()) {
      const { conversation } = entry;
      if (conversation.peerAddress === peer && !conversation.context?.conversationId) return conversation;
    }
    return undefined;
  }

  /** What a first message to `peer` costs on this node, from its terms and what the client knows of the peer. */
  private async outlookFor(session: Session, peer: string): Promise<PostageOutlook> {
    let quote;
    try {
      quote = await session.client.postage.quote();
    } catch {
      quote = undefined; // unknown: a refusal, if any, will explain itself
    }
    return postageOutlook({
      quote,
      peer,
      priorContact: session.client.priorContacts.has(peer),
      grants: session.client.postage.grants(),
    });
  }

  private openDraft(session: Session, draft: Draft): void {
    session.draft = draft;
    session.selectedTopic = undefined;
    // Grants that arrived inside messages are kept by the client: save them with the pasted ones.
    this.persistGrants(session);
    this.renderIfCurrent(session);
    this.composerInput.focus();
  }

  /** Takes a pasted relationship grant, keeps it across reloads, and says again what the first message costs. */
  private async useGrant(session: Session, draft: Draft): Promise<void> {
    const text = this.grantInput.value.trim();
    if (!text) {
      this.showError(`Paste the relationship grant ${draft.peer} gave you (a base64 text) first.`);
      return;
    }
    let grantor: string;
    try {
      grantor = session.client.postage.acceptGrant(text).grantor;
    } catch (err) {
      const { reason, detail } = err as { reason?: unknown; detail?: unknown };
      this.showError(
        typeof reason === "string" ? explainGrantError(reason, String(detail ?? "")) : `That grant cannot be used: ${(err as Error).message}`,
      );
      return;
    }
    this.persistGrants(session);
    this.grantInput.value = "";
    if (grantor !== draft.peer) {
      this.showError(`That grant is from ${grantor}, not from ${draft.peer}: it makes first messages to ${grantor} free, not this one.`);
    } else {
      this.errorMessage = undefined;
    }
    draft.outlook = await this.outlookFor(session, draft.peer);
    draft.refusal = undefined;
    this.renderIfCurrent(session);
  }

  private restoreGrants(client: ChatClient): void {
    for (const grant of loadSavedGrants(this.config.storage, client.address)) {
      try {
        client.postage.acceptGrant(grant);
      } catch {
        // Expired or no longer readable: dropped at the next save.
      }
    }
  }

  private persistGrants(session: Session): void {
    try {
      saveGrants(this.config.storage, session.client.address, session.client.postage.grants());
    } catch {
      // Storage full or blocked: grants still work until the page is closed.
    }
  }

  private async sendMessage(): Promise<void> {
    const session = this.session;
    let entry = session?.selectedTopic ? session.entries.get(session.selectedTopic) : undefined;
    const draft = session && !session.selectedTopic ? session.draft : undefined;
    const text = this.composerInput.value.trim();
    if (!session || (!entry && !draft) || text.length === 0 || this.composerInput.disabled) return;
    this.composerInput.disabled = true;
    try {
      if (draft) entry = await this.startFromDraft(session, draft);
      // Refused for postage: the thread says why, and the text stays in the box.
      if (!entry) return;
      const message = await entry.conversation.send(text);
      this.connectionNotice = undefined;
      this.addToThread(entry, message);
      this.composerInput.value = "";
      this.fitComposer();
    } catch (err) {
      // The text stays in the box so nothing typed is lost.
      this.showError(`Your message was not sent. ${explainError(err, session.apiUrl)}`);
    } finally {
      this.composerInput.disabled = false;
      this.composerInput.focus();
      this.renderIfCurrent(session);
    }
  }

  /** Starts the drafted conversation (its invitation is the first message postage is about); undefined if refused. */
  private async startFromDraft(session: Session, draft: Draft): Promise<ConversationEntry | undefined> {
    draft.sending = true;
    draft.refusal = undefined;
    this.errorMessage = undefined;
    this.renderIfCurrent(session);
    let conversation: ChatConversation;
    try {
      conversation = await session.client.conversations.newConversation(draft.peer);
    } catch (err) {
      const refusal = postageRefusalOf(err);
      if (!refusal) throw err;
      draft.refusal = refusal;
      return undefined;
    } finally {
      draft.sending = false;
    }
    const entry = this.entryFor(session, conversation);
    if (session.draft === draft) await this.select(conversation.topic);
    return entry;
  }

  private showError(message: string): void {
    this.errorMessage = message;
    this.render();
  }

  private setStatus(status: string): void {
    this.status = status;
    this.render();
  }

  private fitComposer(): void {
    this.composerInput.style.height = "auto";
    this.composerInput.style.height = `${Math.min(this.composerInput.scrollHeight, 160)}px`;
  }

  // ── rendering ──────────────────────────────────────────────────────────────────────────────────────────────

  private renderIfCurrent(session: Session): void {
    if (this.session === session) this.render();
  }

  private render(): void {
    // Re-rendering moves the persistent inputs into the new tree, which drops focus; put it back where it was.
    const focused = document.activeElement;
    const keep = [this.composerInput, this.newConversationInput, this.apiUrlInput, this.grantInput].find((e) => e === focused);
    const selection = keep ? [keep.selectionStart, keep.selectionEnd] : undefined;
    const screen = this.session ? this.renderChat(this.session) : this.renderConnect();
    this.root.replaceChildren(screen);
    if (keep && keep.isConnected && !keep.disabled) {
      keep.focus();
      if (selection) keep.setSelectionRange(selection[0], selection[1]);
    }
  }

  private renderError(): HTMLElement | undefined {
    if (!this.errorMessage) return undefined;
    return h(
      "div",
      { class: "error-banner", role: "alert", "data-testid": "error-banner" },
      h("span", { class: "error-text" }, this.errorMessage),
      h(
        "button",
        {
          class: "icon-button",
          type: "button",
          "aria-label": "Dismiss",
          onclick: () => {
            this.errorMessage = undefined;
            this.render();
          },
        },
        "×",
      ),
    );
  }

  private renderConnect(): HTMLElement {
    const saved = savedDevelopmentWallet(this.config.storage);
    const hasBrowserWallet = Boolean(this.config.ethereum);
    return h(
      "main",
      { class: "connect-screen" },
      h(
        "div",
        { class: "connect-card" },
        h("div", { class: "brand-mark", "aria-hidden": "true" }, "✉"),
        h("h1", {}, "XMTP chat"),
        h("p", { class: "lead" }, "End-to-end encrypted messages between Ethereum wallets, through an XMTP node."),
        h("label", { class: "field" }, h("span", { class: "field-label" }, "Node URL"), this.apiUrlInput),
        h(
          "button",
          {
            class: "button primary",
            type: "button",
            disabled: this.busy || !hasBrowserWallet,
            "data-testid": "connect-browser-wallet",
            onclick: () => void this.connect("browser"),
          },
          "Connect browser wallet",
        ),
        !hasBrowserWallet &&
          h("p", { class: "hint" }, "No browser wallet detected (window.ethereum). Install one, or try a development wallet."),
        h(
          "button",
          {
            // Without a browser wallet, the development wallet is the way in: make it the obvious button.
            class: hasBrowserWallet ? "button" : "button primary",
            type: "button",
            disabled: this.busy,
            "data-testid": "connect-dev-wallet",
            onclick: () => void this.connect("development"),
          },
          saved ? `Continue as development wallet ${shortAddress(saved.address)}` : "Create development wallet",
        ),
        saved &&
          h(
            "button",
            {
              class: "link-button",
              type: "button",
              disabled: this.busy,
              onclick: () => {
                forgetDevelopmentWallet(this.config.storage);
                this.render();
              },
            },
            "Forget this development wallet",
          ),
        h(
          "p",
          { class: "hint" },
          "A development wallet is a random key kept in this browser's storage: fine for trying things out, not for real funds or identities.",
        ),
        this.status && h("p", { class: "status", role: "status", "data-testid": "status" }, this.status),
        this.renderError(),
      ),
    );
  }

  private renderChat(session: Session): HTMLElement {
    const unread = [...session.entries.values()].reduce((sum, e) => sum + e.unread, 0);
    document.title = unread > 0 ? `(${unread}) XMTP chat` : "XMTP chat";
    return h(
      "div",
      { class: "chat-screen" },
      this.renderTopBar(session),
      this.connectionNotice &&
        h("div", { class: "notice-banner", role: "status", "data-testid": "connection-notice" }, this.connectionNotice),
      this.renderError(),
      h("div", { class: "layout" }, this.renderSidebar(session), this.renderThread(session)),
    );
  }

  private renderTopBar(session: Session): HTMLElement {
    const address = session.client.address;
    return h(
      "header",
      { class: "top-bar" },
      h("span", { class: "brand" }, h("span", { class: "brand-dot", "aria-hidden": "true" }), "XMTP chat"),
      h("span", { class: "node-url", title: "The node this app talks to" }, session.apiUrl),
      h(
        "span",
        { class: "me" },
        avatar(address),
        h("span", { class: "me-address", title: address, "data-testid": "my-address", "data-address": address }, address),
        h("span", { class: "wallet-kind" }, session.wallet.kind === "browser" ? "browser wallet" : "development wallet"),
        h(
          "button",
          {
            class: "button small",
            type: "button",
            title: "Copy your address",
            onclick: (event: Event) => {
              const button = event.currentTarget as HTMLButtonElement;
              void navigator.clipboard?.writeText(address).then(
                () => (button.textContent = "Copied"),
                () => this.showError("Could not copy to the clipboard; select the address and copy it by hand."),
              );
            },
          },
          "Copy",
        ),
        h("button", { class: "button small", type: "button", onclick: () => this.disconnect() }, "Disconnect"),
      ),
    );
  }

  private renderSidebar(session: Session): HTMLElement {
    const entries = [...session.entries.values()].sort((a, b) => {
      const at = (e: ConversationEntry) => (e.latest?.sent ?? e.conversation.createdAt).getTime();
      return at(b) - at(a);
    });
    const form = h(
      "form",
      {
        class: "new-conversation",
        onsubmit: (event: Event) => {
          event.preventDefault();
          void this.startConversation();
        },
      },
      this.newConversationInput,
      h(
        "button",
        { class: "button primary", type: "submit", disabled: this.busy, "data-testid": "new-conversation-start" },
        "Start",
      ),
    );
    let list: HTMLElement;
    if (session.loadingList) {
      list = h("p", { class: "placeholder" }, "Loading conversations…");
    } else if (entries.length === 0) {
      list = h("p", { class: "placeholder" }, "No conversations yet. Paste an address above to start one.");
    } else {
      list = h(
        "ul",
        { class: "conversation-list", "data-testid": "conversation-list" },
        ...entries.map((entry) => this.renderConversationItem(session, entry)),
      );
    }
    return h("aside", { class: "sidebar" }, form, list);
  }

  private renderConversationItem(session: Session, entry: ConversationEntry): HTMLElement {
    const { conversation, latest } = entry;
    const selected = session.selectedTopic === conversation.topic;
    const preview = latest
      ? (latest.senderAddress === session.client.address ? "You: " : "") + messageText(latest)
      : "No messages yet";
    return h(
      "li",
      {},
      h(
        "button",
        {
          type: "button",
          class: `conversation-item${selected ? " selected" : ""}${entry.unread ? " unread" : ""}`,
          "data-testid": "conversation-item",
          "data-peer": conversation.peerAddress,
          "aria-current": selected ? "true" : undefined,
          title: conversation.peerAddress,
          onclick: () => void this.select(conversation.topic),
        },
        avatar(conversation.peerAddress),
        h(
          "span",
          { class: "conversation-text" },
          h(
            "span",
            { class: "conversation-top" },
            h("span", { class: "peer" }, shortAddress(conversation.peerAddress)),
            conversation.context?.conversationId &&
              h("span", { class: "context" }, conversation.context.conversationId),
            h("span", { class: "time" }, latest ? shortTime(latest.sent) : ""),
          ),
          h(
            "span",
            { class: "conversation-bottom" },
            h("span", { class: "preview", "data-testid": "conversation-preview" }, preview),
            entry.unread > 0 && h("span", { class: "badge", "aria-label": `${entry.unread} unread` }, String(entry.unread)),
          ),
        ),
      ),
    );
  }

  private renderThread(session: Session): HTMLElement {
    const entry = session.selectedTopic ? session.entries.get(session.selectedTopic) : undefined;
    if (!entry && session.draft) return this.renderDraft(session, session.draft);
    if (!entry) {
      return h(
        "section",
        { class: "thread empty" },
        h("p", { class: "placeholder" }, "Pick a conversation, or start one with an address."),
      );
    }
    const previous = this.messagesElement;
    const stickToBottom =
      !previous ||
      previous.dataset.topic !== entry.conversation.topic ||
      previous.scrollHeight - previous.scrollTop - previous.clientHeight < 80;
    const me = session.client.address;
    const messages = h(
      "ol",
      { class: "messages", "data-testid": "messages", "data-topic": entry.conversation.topic },
      ...(entry.messages ?? []).map((message) => {
        const mine = message.senderAddress === me;
        return h(
          "li",
          {
            class: `message ${mine ? "mine" : "theirs"}${message.error ? " broken" : ""}`,
            "data-testid": "message",
            "data-sender": message.senderAddress,
          },
          h("div", { class: "bubble" }, messageText(message)),
          h("time", { class: "meta", datetime: message.sent.toISOString(), title: fullTime(message.sent) }, shortTime(message.sent)),
        );
      }),
    );
    if (entry.loadingMessages && !entry.messages) messages.append(h("li", { class: "placeholder" }, "Loading messages…"));
    else if (entry.messages?.length === 0) messages.append(h("li", { class: "placeholder" }, "No messages yet. Say hello!"));
    const previousScroll = previous?.scrollTop ?? 0;
    this.messagesElement = messages;
    queueMicrotask(() => {
      messages.scrollTop = stickToBottom ? messages.scrollHeight : previousScroll;
    });
    const peer = entry.conversation.peerAddress;
    return h(
      "section",
      { class: "thread" },
      h(
        "header",
        { class: "thread-header" },
        avatar(peer, "large"),
        h(
          "div",
          {},
          h("div", { class: "thread-peer", "data-testid": "thread-peer" }, peer),
          h(
            "div",
            { class: "thread-sub" },
            entry.conversation.context?.conversationId
              ? `conversation ${entry.conversation.context.conversationId}`
              : `since ${fullTime(entry.conversation.createdAt)}`,
          ),
        ),
      ),
      messages,
      this.renderComposer(),
    );
  }

  private renderComposer(): HTMLElement {
    return h(
      "form",
      {
        class: "composer",
        onsubmit: (event: Event) => {
          event.preventDefault();
          void this.sendMessage();
        },
      },
      this.composerInput,
      h("button", { class: "button primary", type: "submit", "data-testid": "composer-send" }, "Send"),
    );
  }

  /** A conversation that starts with the first message: what postage asks for it, or why the node refused it. */
  private renderDraft(session: Session, draft: Draft): HTMLElement {
    this.messagesElement = undefined;
    const notice = draft.refusal ? noticeForRefusal(draft.refusal) : noticeForOutlook(draft.outlook, draft.peer);
    const free = !draft.refusal && draft.outlook.kind === "free";
    const body = h("div", { class: "draft-body" });
    if (notice) body.append(this.renderPostageNotice(notice, draft.refusal !== undefined));
    if (draft.sending) body.append(h("p", { class: "placeholder" }, "Starting the conversation…"));
    if (!free) {
      body.append(
        h(
          "form",
          {
            class: "grant-form",
            onsubmit: (event: Event) => {
              event.preventDefault();
              void this.useGrant(session, draft);
            },
          },
          h("label", { class: "grant-label" }, `Have a relationship grant from ${draft.peer}? Paste it here:`),
          h(
            "div",
            { class: "grant-row" },
            this.grantInput,
            h("button", { class: "button", type: "submit", "data-testid": "postage-grant-use" }, "Use grant"),
          ),
        ),
      );
    }
    if (!notice) body.append(h("p", { class: "placeholder" }, "No messages yet. Say hello!"));
    return h(
      "section",
      { class: "thread draft" },
      h(
        "header",
        { class: "thread-header" },
        avatar(draft.peer, "large"),
        h(
          "div",
          {},
          h("div", { class: "thread-peer", "data-testid": "thread-peer" }, draft.peer),
          h("div", { class: "thread-sub" }, "New conversation: it starts with your first message."),
        ),
      ),
      body,
      this.renderComposer(),
    );
  }

  private renderPostageNotice(notice: PostageNotice, refused: boolean): HTMLElement {
    const terms = h("dl", { class: "postage-terms" });
    for (const { label, value } of notice.details) terms.append(h("dt", {}, label), h("dd", {}, value));
    return h(
      "div",
      {
        class: `postage-notice ${notice.tone}`,
        role: refused ? "alert" : "status",
        "data-testid": refused ? "postage-refusal" : "postage-notice",
        "data-tone": notice.tone,
      },
      h("h2", { class: "postage-title" }, notice.title),
      ...notice.paragraphs.map((text) => h("p", {}, text)),
      notice.details.length > 0 && terms,
      notice.serverMessage && h("p", { class: "postage-server" }, "The node said: ", h("q", {}, notice.serverMessage)),
      refused && h("p", { class: "postage-kept" }, "Nothing was sent: your message is still in the box."),
    );
  }
}
