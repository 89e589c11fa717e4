// The chat app's state and how it changes: one value (AppState) and a reducer that takes it and an event and returns
// the next one. Pure: no DOM, no network, no storage. The effects (effects/) do the work and report it as events; the
// views (views/) draw the state.
import type { PostageOutlook, PostageRefusalInput } from "./postage.js";
import { shortAddress } from "./format.js";
import { plainText, reactionOf, replyOf } from "./reactions.js";
import type { ConnectedWallet } from "./wallets.js";
import type { ChatConversation, ChatMessage } from "./xmtp.js";

export type WalletKind = ConnectedWallet["kind"];

/** A conversation in the list, and its thread once opened. */
export interface ConversationEntry {
  readonly conversation: ChatConversation;
  readonly latest?: ChatMessage;
  readonly unread: number;
  /** The whole thread once opened, oldest first; undefined until then (the list only needs the latest message). */
  readonly messages?: readonly ChatMessage[];
  readonly loadingMessages: boolean;
  /** Our messages not confirmed by the node yet (sending) or refused (failed), in the order they were written. */
  readonly outbox?: readonly OutgoingMessage[];
}

/** A message we wrote that the node has not accepted yet: shown after the thread, as sending or failed. */
export interface OutgoingMessage {
  /** The app's own id for it (the network's id exists only once it is sent). */
  readonly localId: string;
  readonly text: string;
  readonly written: Date;
  readonly status: "sending" | "failed";
  /** Why it failed, in plain words. */
  readonly error?: string;
  /** The id of the message it answers (sent as a reply, quoting it). */
  readonly replyTo?: string;
}

/**
 * A conversation not started yet, shown while postage is on: it starts with the first message, once the user has
 * seen what that costs (or why it is free). Only one at a time; shown when no conversation is selected.
 */
export interface Draft {
  /** Tells this draft from a later one to the same peer: work begun for one must not change the other. */
  readonly id: number;
  readonly peer: string;
  readonly outlook: PostageOutlook;
  /** The node refused the first message for postage. */
  readonly refusal?: PostageRefusalInput;
  readonly sending: boolean;
}

/** The wallet's consent for a peer, as its consent list (shared by all its installations) says. */
export type Consent = "allowed" | "denied" | "unknown";

/** The three parts of the inbox: Messages (allowed), Requests (unknown: accept or block), Blocked (denied). */
export type InboxTab = "messages" | "requests" | "blocked";

/** A connected wallet's inbox. */
export interface SessionState {
  /** Tells this session from a later one: what was begun for a session that has ended changes nothing. */
  readonly id: number;
  readonly walletKind: WalletKind;
  /** The client's (checksummed) address. */
  readonly address: string;
  readonly apiUrl: string;
  /** The conversations by topic, in the order they were first seen. */
  readonly entries: ReadonlyMap<string, ConversationEntry>;
  readonly selectedTopic?: string;
  readonly draft?: Draft;
  readonly loadingList: boolean;
  /** How many drafts this session opened: the next one's id. */
  readonly draftsOpened: number;
  /** The consent list by (checksummed) address; peers not in it are unknown. */
  readonly consent: ReadonlyMap<string, "allowed" | "denied">;
  /** Until the consent list is read, nothing is sorted into Requests or Blocked (all shows under Messages). */
  readonly consentLoaded: boolean;
  readonly tab: InboxTab;
  /** The message the composer answers (a reply quotes it), in the conversation it belongs to. */
  readonly replyingTo?: { readonly topic: string; readonly messageId: string };
}

export interface AppState {
  /** Undefined while no wallet is connected (the connect screen). */
  readonly session?: SessionState;
  readonly errorMessage?: string;
  /** Set while a live stream is reconnecting; cleared by the next thing that reaches the node. */
  readonly connectionNotice?: string;
  /** What connecting is waiting for. */
  readonly status?: string;
  /** Connecting, or starting a conversation: a second one waits. */
  readonly busy: boolean;
  /** A message is being sent: the composer is locked until it is sent or refused. */
  readonly sending: boolean;
  /** Whether desktop notifications may be shown: asked only when the user turns them on. */
  readonly notifications?: NotificationSetting;
  /** Push notifications through a notification service; undefined when no service is configured. */
  readonly push?: PushState;
}

/**
 * Push notifications (Web Push through xmtp-notify) for the session: off (offered), being turned on or off, on, or
 * unavailable with the reason in plain words (`retry`: whether clicking Notify me again may help).
 */
export type PushState =
  | { readonly status: "off" | "starting" | "on" | "stopping" }
  | { readonly status: "unavailable"; readonly reason: string; readonly retry: boolean };

/** The browser's answer about desktop notifications ("default": not asked yet), or none to be had. */
export type NotificationSetting = "default" | "granted" | "denied" | "unsupported";

export const initialState: AppState = { busy: false, sending: false };

/** Events about one session carry its id: when that session has ended, the reducer ignores their session part. */
interface SessionEvent {
  sessionId: number;
}

export type AppEvent =
  | { type: "errorShown"; message: string }
  | { type: "errorDismissed" }
  | { type: "statusShown"; status: string }
  /** Connecting or starting a conversation: busy, and the last error is cleared. */
  | { type: "workStarted" }
  | { type: "workEnded" }
  | ({ type: "connected"; walletKind: WalletKind; address: string; apiUrl: string } & SessionEvent)
  | { type: "connectFailed"; message: string }
  /** `reason` is shown on the connect screen. */
  | { type: "disconnected"; reason?: string }
  /** The conversations in the inbox database: the list shows them at once if there are any. */
  | ({ type: "storedListed"; conversations: readonly ChatConversation[] } & SessionEvent)
  /** The conversations after a sync with the node: the list is complete. */
  | ({ type: "conversationsListed"; conversations: readonly ChatConversation[] } & SessionEvent)
  /** Conversations learnt of otherwise (a new one, a sync before starting one): added if new. */
  | ({ type: "conversationsSeen"; conversations: readonly ChatConversation[] } & SessionEvent)
  | ({ type: "listFailed"; message: string } & SessionEvent)
  | ({ type: "latestLoaded"; topic: string; message: ChatMessage } & SessionEvent)
  | ({ type: "conversationStreamed"; conversation: ChatConversation } & SessionEvent)
  | ({ type: "messageStreamed"; message: ChatMessage } & SessionEvent)
  | { type: "connectionLost"; notice: string }
  | { type: "connectionRestored" }
  /** A conversation opened: its unread count clears and, the first time, its history starts loading. */
  | ({ type: "selected"; topic: string } & SessionEvent)
  | ({ type: "historyLoaded"; topic: string; history: readonly ChatMessage[] } & SessionEvent)
  | ({ type: "historyFailed"; topic: string; message: string } & SessionEvent)
  | ({ type: "draftOpened"; peer: string; outlook: PostageOutlook; refusal?: PostageRefusalInput } & SessionEvent)
  /** The postage outlook asked again (a grant was pasted): the last refusal no longer applies. */
  | ({ type: "draftOutlookUpdated"; draftId: number; outlook: PostageOutlook } & SessionEvent)
  /** The draft's conversation is being started (its invitation is the first message). */
  | ({ type: "draftSending"; draftId: number } & SessionEvent)
  /** Starting it ended: with its conversation, refused for postage, or failed otherwise (neither). */
  | ({
      type: "draftSettled";
      draftId: number;
      conversation?: ChatConversation;
      refusal?: PostageRefusalInput;
    } & SessionEvent)
  /** Starting a drafted conversation with its first message: the composer is locked until it ends. */
  | { type: "sendStarted" }
  | ({ type: "messageSent"; topic: string; message: ChatMessage } & SessionEvent)
  | { type: "sendEnded" }
  /** A message written in an open conversation: shown at once as sending. */
  | ({ type: "outgoingQueued"; topic: string; localId: string; text: string; written: Date; replyTo?: string } & SessionEvent)
  /** The node accepted it: it joins the thread as sent. */
  | ({ type: "outgoingSent"; topic: string; localId: string; message: ChatMessage } & SessionEvent)
  | ({ type: "outgoingFailed"; topic: string; localId: string; error: string } & SessionEvent)
  /** A failed message sent again. */
  | ({ type: "outgoingRetried"; topic: string; localId: string } & SessionEvent)
  /** The whole consent list, as read from the client. */
  | ({ type: "consentLoaded"; entries: readonly { address: string; state: "allowed" | "denied" }[] } & SessionEvent)
  /** Consent for some peers changed (here, or on another installation of the wallet). */
  | ({ type: "consentChanged"; changes: readonly { address: string; state: Consent }[] } & SessionEvent)
  | ({ type: "tabSelected"; tab: InboxTab } & SessionEvent)
  /** Reply was chosen on a message: the composer quotes it until sent or cancelled. */
  | ({ type: "replyStarted"; topic: string; messageId: string } & SessionEvent)
  | ({ type: "replyCancelled" } & SessionEvent)
  | { type: "notificationsChecked"; setting: NotificationSetting }
  /** Push notifications changed (undefined: no notification service is configured). */
  | { type: "pushChanged"; push: PushState | undefined };

// ── entries ───────────────────────────────────────────────────────────────────────────────────────────────────

function bySent(a: ChatMessage, b: ChatMessage): number {
  return a.sent.getTime() - b.sent.getTime();
}

/** The entries with one for each conversation not listed yet (a known topic keeps its entry). */
export function withConversations(
  entries: ReadonlyMap<string, ConversationEntry>,
  conversations: readonly ChatConversation[],
): ReadonlyMap<string, ConversationEntry> {
  let next: Map<string, ConversationEntry> | undefined;
  for (const conversation of conversations) {
    if ((next ?? entries).has(conversation.topic)) continue;
    next ??= new Map(entries);
    next.set(conversation.topic, { conversation, unread: 0, loadingMessages: false });
  }
  return next ?? entries;
}

/** The entry with `message` as its latest, unless it already has a later one (the later of equal times wins). */
export function noteLatest(entry: ConversationEntry, message: ChatMessage): ConversationEntry {
  if (entry.latest && entry.latest.sent.getTime() > message.sent.getTime()) return entry;
  return { ...entry, latest: message };
}

/**
 * The entry with `message` noted as latest and, if its thread is loaded, added to it in time order. `added` is false
 * only when the loaded thread already had the message.
 */
export function addToThread(entry: ConversationEntry, message: ChatMessage): { entry: ConversationEntry; added: boolean } {
  const noted = noteLatest(entry, message);
  if (!noted.messages) return { entry: noted, added: true };
  if (noted.messages.some((m) => m.id === message.id)) return { entry: noted, added: false };
  return { entry: { ...noted, messages: [...noted.messages, message].sort(bySent) }, added: true };
}

/** The thread's history, with the messages that streamed in while it loaded, once each, in time order. */
export function withHistory(entry: ConversationEntry, history: readonly ChatMessage[]): ConversationEntry {
  let next: ConversationEntry = { ...entry, messages: [...history] };
  for (const message of entry.messages ?? []) next = addToThread(next, message).entry;
  const messages = [...(next.messages ?? [])].sort(bySent);
  next = { ...next, messages, loadingMessages: false };
  const last = messages[messages.length - 1];
  return last ? noteLatest(next, last) : next;
}

/**
 * A message from the live stream. A stream may hand over a message the list already showed (after a reconnect it
 * re-reads a short window): only a new message from the peer, in a conversation not open, counts as unread. One of
 * ours can arrive before its send is confirmed: it replaces the first outgoing message with its text that is
 * still sending, so it does not show twice.
 */
export function receive(session: SessionState, message: ChatMessage): SessionState {
  const conversation = message.conversation;
  if (!conversation) return session;
  const entries = withConversations(session.entries, [conversation]);
  const entry = entries.get(conversation.topic)!;
  const known = entry.latest !== undefined && (entry.latest.id === message.id || message.sent < entry.latest.sent);
  const { entry: next, added } = addToThread(entry, message);
  const isNew = added && !known;
  const mine = message.senderAddress === session.address;
  // A reaction shows on its message; it does not make the conversation unread.
  const counts = isNew && !mine && !reactionOf(message) && session.selectedTopic !== conversation.topic;
  const unread = counts ? next.unread + 1 : next.unread;
  let outbox = next.outbox;
  if (mine && outbox) {
    const text = plainText(message);
    const reply = replyOf(message);
    const echoed = outbox.findIndex(
      (item) => item.status === "sending" && item.text === text && item.replyTo === reply?.reference,
    );
    if (echoed >= 0) outbox = outbox.filter((_, index) => index !== echoed);
  }
  return { ...session, entries: new Map(entries).set(conversation.topic, { ...next, unread, outbox }) };
}

/** Applies `change` to the outgoing message `localId` of the entry; the same entry if it has none. */
function inOutbox(entry: ConversationEntry, localId: string, change: (item: OutgoingMessage) => OutgoingMessage | undefined): ConversationEntry {
  const outbox = entry.outbox ?? [];
  const index = outbox.findIndex((item) => item.localId === localId);
  if (index < 0) return entry;
  const changed = change(outbox[index]);
  const next = changed ? outbox.map((item, i) => (i === index ? changed : item)) : outbox.filter((_, i) => i !== index);
  return { ...entry, outbox: next };
}

// ── the reducer ───────────────────────────────────────────────────────────────────────────────────────────────

/** Applies `change` to the session if `sessionId` is the current one; the same state otherwise. */
function inSession(state: AppState, sessionId: number, change: (session: SessionState) => SessionState): AppState {
  const session = state.session;
  if (!session || session.id !== sessionId) return state;
  const next = change(session);
  return next === session ? state : { ...state, session: next };
}

/** Applies `change` to the entry of `topic`, if the session has one. */
function inEntry(session: SessionState, topic: string, change: (entry: ConversationEntry) => ConversationEntry): SessionState {
  const entry = session.entries.get(topic);
  if (!entry) return session;
  const next = change(entry);
  return next === entry ? session : { ...session, entries: new Map(session.entries).set(topic, next) };
}

/** Applies `change` to the draft if `draftId` is the open one. */
function inDraft(session: SessionState, draftId: number, change: (draft: Draft) => Draft): SessionState {
  if (!session.draft || session.draft.id !== draftId) return session;
  return { ...session, draft: change(session.draft) };
}

export function reduce(state: AppState, event: AppEvent): AppState {
  switch (event.type) {
    case "errorShown":
      return { ...state, errorMessage: event.message };
    case "errorDismissed":
      return { ...state, errorMessage: undefined };
    case "statusShown":
      return { ...state, status: event.status };
    case "workStarted":
      return { ...state, busy: true, errorMessage: undefined };
    case "workEnded":
      return { ...state, busy: false };
    case "connected":
      return {
        ...state,
        status: undefined,
        session: {
          id: event.sessionId,
          walletKind: event.walletKind,
          address: event.address,
          apiUrl: event.apiUrl,
          entries: new Map(),
          loadingList: true,
          draftsOpened: 0,
          consent: new Map(),
          consentLoaded: false,
          tab: "messages",
        },
      };
    case "connectFailed":
      return { ...state, status: undefined, errorMessage: event.message };
    case "disconnected":
      return { ...state, session: undefined, errorMessage: event.reason, connectionNotice: undefined };
    case "storedListed":
      return inSession(state, event.sessionId, (session) => ({
        ...session,
        entries: withConversations(session.entries, event.conversations),
        loadingList: event.conversations.length > 0 ? false : session.loadingList,
      }));
    case "conversationsListed":
      return inSession(state, event.sessionId, (session) => ({
        ...session,
        entries: withConversations(session.entries, event.conversations),
        loadingList: false,
      }));
    case "conversationsSeen":
      return inSession(state, event.sessionId, (session) => {
        const entries = withConversations(session.entries, event.conversations);
        return entries === session.entries ? session : { ...session, entries };
      });
    case "listFailed":
      return {
        ...inSession(state, event.sessionId, (session) => ({ ...session, loadingList: false })),
        errorMessage: event.message,
      };
    case "latestLoaded":
      return inSession(state, event.sessionId, (session) =>
        inEntry(session, event.topic, (entry) => noteLatest(entry, event.message)),
      );
    case "conversationStreamed":
      return {
        ...inSession(state, event.sessionId, (session) => ({
          ...session,
          entries: withConversations(session.entries, [event.conversation]),
        })),
        connectionNotice: undefined,
      };
    case "messageStreamed":
      return { ...inSession(state, event.sessionId, (session) => receive(session, event.message)), connectionNotice: undefined };
    case "connectionLost":
      return { ...state, connectionNotice: event.notice };
    case "connectionRestored":
      return { ...state, connectionNotice: undefined };
    case "selected":
      return inSession(state, event.sessionId, (session) => {
        if (!session.entries.has(event.topic)) return session;
        const selected: SessionState = { ...session, selectedTopic: event.topic, draft: undefined };
        return inEntry(selected, event.topic, (entry) => ({
          ...entry,
          unread: 0,
          loadingMessages: entry.messages ? entry.loadingMessages : true,
        }));
      });
    case "historyLoaded":
      return inSession(state, event.sessionId, (session) =>
        inEntry(session, event.topic, (entry) => withHistory(entry, event.history)),
      );
    case "historyFailed":
      return {
        ...inSession(state, event.sessionId, (session) =>
          inEntry(session, event.topic, (entry) => ({ ...entry, loadingMessages: false })),
        ),
        errorMessage: event.message,
      };
    case "draftOpened":
      return inSession(state, event.sessionId, (session) => ({
        ...session,
        selectedTopic: undefined,
        draftsOpened: session.draftsOpened + 1,
        draft: {
          id: session.draftsOpened + 1,
          peer: event.peer,
          outlook: event.outlook,
          ...(event.refusal ? { refusal: event.refusal } : {}),
          sending: false,
        },
      }));
    case "draftOutlookUpdated":
      return inSession(state, event.sessionId, (session) =>
        inDraft(session, event.draftId, (draft) => ({ ...draft, outlook: event.outlook, refusal: undefined })),
      );
    case "draftSending":
      return {
        ...inSession(state, event.sessionId, (session) =>
          inDraft(session, event.draftId, (draft) => ({ ...draft, sending: true, refusal: undefined })),
        ),
        errorMessage: undefined,
      };
    case "draftSettled":
      return inSession(state, event.sessionId, (session) => {
        const settled = inDraft(session, event.draftId, (draft) => ({
          ...draft,
          sending: false,
          ...(event.refusal ? { refusal: event.refusal } : {}),
        }));
        if (!event.conversation) return settled;
        return { ...settled, entries: withConversations(settled.entries, [event.conversation]) };
      });
    case "sendStarted":
      return { ...state, sending: true };
    case "messageSent":
      return {
        ...inSession(state, event.sessionId, (session) =>
          inEntry(session, event.topic, (entry) => addToThread(entry, event.message).entry),
        ),
        connectionNotice: undefined,
      };
    case "sendEnded":
      return { ...state, sending: false };
    case "consentLoaded":
      return inSession(state, event.sessionId, (session) =>
        followSelected(session, { ...session, consent: new Map(event.entries.map((e) => [e.address, e.state])), consentLoaded: true }),
      );
    case "consentChanged":
      return inSession(state, event.sessionId, (session) => {
        const consent = new Map(session.consent);
        for (const { address, state: value } of event.changes) {
          if (value === "unknown") consent.delete(address);
          else consent.set(address, value);
        }
        return followSelected(session, { ...session, consent });
      });
    case "tabSelected":
      return inSession(state, event.sessionId, (session) => (session.tab === event.tab ? session : { ...session, tab: event.tab }));
    case "outgoingQueued":
      return inSession(state, event.sessionId, (session) => {
        const queued: OutgoingMessage = {
          localId: event.localId,
          text: event.text,
          written: event.written,
          status: "sending",
          ...(event.replyTo ? { replyTo: event.replyTo } : {}),
        };
        const next = inEntry(session, event.topic, (entry) => ({ ...entry, outbox: [...(entry.outbox ?? []), queued] }));
        // The reply is written: the composer quotes nothing any more.
        return event.replyTo && next.replyingTo?.messageId === event.replyTo ? { ...next, replyingTo: undefined } : next;
      });
    case "notificationsChecked":
      return state.notifications === event.setting ? state : { ...state, notifications: event.setting };
    case "pushChanged":
      return { ...state, push: event.push };
    case "replyStarted":
      return inSession(state, event.sessionId, (session) =>
        session.entries.has(event.topic) ? { ...session, replyingTo: { topic: event.topic, messageId: event.messageId } } : session,
      );
    case "replyCancelled":
      return inSession(state, event.sessionId, (session) => (session.replyingTo ? { ...session, replyingTo: undefined } : session));
    case "outgoingSent":
      return {
        ...inSession(state, event.sessionId, (session) =>
          inEntry(session, event.topic, (entry) => addToThread(inOutbox(entry, event.localId, () => undefined), event.message).entry),
        ),
        connectionNotice: undefined,
      };
    case "outgoingFailed":
      return inSession(state, event.sessionId, (session) =>
        inEntry(session, event.topic, (entry) =>
          inOutbox(entry, event.localId, (item) => ({ ...item, status: "failed", error: event.error })),
        ),
      );
    case "outgoingRetried":
      return inSession(state, event.sessionId, (session) =>
        inEntry(session, event.topic, (entry) =>
          inOutbox(entry, event.localId, (item) => ({ ...item, status: "sending", error: undefined })),
        ),
      );
  }
}

// ── reading the state ─────────────────────────────────────────────────────────────────────────────────────────

/** The entry of the open conversation, if one is open. */
export function selectedEntry(session: SessionState): ConversationEntry | undefined {
  return session.selectedTopic ? session.entries.get(session.selectedTopic) : undefined;
}

/** The consent list's word on `peer`. */
export function consentOf(session: SessionState, peer: string): Consent {
  return session.consent.get(peer) ?? "unknown";
}

/** Where a conversation is listed: by its peer's consent, once the consent list is known. */
export function tabOf(session: SessionState, entry: ConversationEntry): InboxTab {
  if (!session.consentLoaded) return "messages";
  const consent = consentOf(session, entry.conversation.peerAddress);
  return consent === "allowed" ? "messages" : consent === "denied" ? "blocked" : "requests";
}

/**
 * When consent moves the open conversation to another part of the inbox (accepted, blocked, a reply allowed it,
 * another device changed it), the list follows it there, so it stays in view.
 */
function followSelected(before: SessionState, after: SessionState): SessionState {
  const entry = selectedEntry(after);
  if (!entry) return after;
  const was = tabOf(before, entry);
  const now = tabOf(after, entry);
  return was !== now && before.tab === was ? { ...after, tab: now } : after;
}

/** The list's order: latest activity (latest message, else creation) first; only the conversations of `tab`. */
export function sortedEntries(session: SessionState, tab?: InboxTab): ConversationEntry[] {
  const at = (entry: ConversationEntry) => (entry.latest?.sent ?? entry.conversation.createdAt).getTime();
  const all = [...session.entries.values()];
  const listed = tab ? all.filter((entry) => tabOf(session, entry) === tab) : all;
  return listed.sort((a, b) => at(b) - at(a));
}

/** Per part of the inbox: how many conversations, and how many unread messages. */
export function tabCounts(session: SessionState): Record<InboxTab, { conversations: number; unread: number }> {
  const counts = {
    messages: { conversations: 0, unread: 0 },
    requests: { conversations: 0, unread: 0 },
    blocked: { conversations: 0, unread: 0 },
  };
  for (const entry of session.entries.values()) {
    const count = counts[tabOf(session, entry)];
    count.conversations++;
    count.unread += entry.unread;
  }
  return counts;
}

/** Unread messages in the conversations we accepted (requests and blocked ones do not call for attention). */
export function unreadTotal(session: SessionState): number {
  return tabCounts(session).messages.unread;
}

/** "(3) XMTP chat" while messages are unread. */
export function documentTitle(state: AppState): string {
  const unread = state.session ? unreadTotal(state.session) : 0;
  return unread > 0 ? `(${unread}) XMTP chat` : "XMTP chat";
}

/** The conversation with `peer` we already have (no conversation id): opening it again sends nothing. */
export function existingConversationWith(session: SessionState, peer: string): ChatConversation | undefined {
  for (const { conversation } of session.entries.values()) {
    if (conversation.peerAddress === peer && !conversation.context?.conversationId) return conversation;
  }
  return undefined;
}

/** What a desktop notification says of a message: who, what, and the conversation a click opens. */
export interface MessageNotification {
  title: string;
  body: string;
  topic: string;
}

/** The longest body a notification gets; the rest is in the app. */
const NOTIFICATION_BODY_CHARS = 140;

/**
 * The notification a streamed message deserves, judged against the session before the message is applied: one
 * new to the thread, from the peer, that is text or a reply (reactions are not worth interrupting for, as the
 * public content type says), in a conversation not blocked. A request says it is one. Whether the tab is hidden
 * is the caller's part; `labelOf` names the peer.
 */
export function notificationFor(
  session: SessionState,
  message: ChatMessage,
  labelOf: (address: string) => string = shortAddress,
): MessageNotification | undefined {
  const conversation = message.conversation;
  if (!conversation || message.error || message.senderAddress === session.address) return undefined;
  if (reactionOf(message) || plainText(message) === undefined) return undefined;
  const entry = session.entries.get(conversation.topic);
  if (entry?.messages?.some((m) => m.id === message.id)) return undefined;
  if (entry?.latest && (entry.latest.id === message.id || message.sent < entry.latest.sent)) return undefined;
  const consent = session.consentLoaded ? consentOf(session, conversation.peerAddress) : "allowed";
  if (consent === "denied") return undefined;
  const text = messageText(message);
  const body = text.length > NOTIFICATION_BODY_CHARS ? `${text.slice(0, NOTIFICATION_BODY_CHARS - 1)}…` : text;
  // Named as the page names the peer (an ENS name when known), like the service worker's push notification, which
  // this one replaces (same tag: the topic) when both arrive.
  const who = labelOf(conversation.peerAddress);
  return { title: consent === "unknown" ? `Message request from ${who}` : who, body, topic: conversation.topic };
}

/** An outgoing message of the entry, by its local id. */
export function outgoingMessage(entry: ConversationEntry, localId: string): OutgoingMessage | undefined {
  return entry.outbox?.find((item) => item.localId === localId);
}

/** Text shown for a message in the list and thread: its text, or what it was if not text. */
export function messageText(message: ChatMessage): string {
  if (message.error) return "⚠ This message could not be decrypted or verified.";
  const text = plainText(message);
  if (text !== undefined) return text;
  const reaction = reactionOf(message);
  if (reaction) return reaction.action === "added" ? `Reacted ${reaction.content}` : `Took back ${reaction.content}`;
  if (message.contentFallback) return message.contentFallback;
  return "(a message this app cannot display)";
}

/** The list's line under a conversation: its latest message, "You: " first when we sent it. */
export function conversationPreview(entry: ConversationEntry, me: string): string {
  const { latest } = entry;
  if (!latest) return "No messages yet";
  return (latest.senderAddress === me ? "You: " : "") + messageText(latest);
}

/** The terms a refusal came with, as the outlook shown beside it (unknown when the node sent none). */
export function outlookOfRefusal(refusal: PostageRefusalInput): PostageOutlook {
  return refusal.quote ? { kind: "required", quote: refusal.quote } : { kind: "unknown" };
}

/** Whether the node charges for the first message to this peer, or would have but it is free: a draft says which. */
export function needsDraft(outlook: PostageOutlook | undefined): outlook is PostageOutlook & { kind: "required" | "free" } {
  return outlook !== undefined && (outlook.kind === "required" || outlook.kind === "free");
}

/** The node URL typed on the connect screen, without trailing slashes; or why it is not one. */
export function nodeUrlFromInput(input: string): { ok: true; url: string } | { ok: false; error: string } {
  const url = input.trim().replace(/\/+$/, "");
  try {
    const { protocol } = new URL(url);
    if (protocol === "http:" || protocol === "https:") return { ok: true, url };
  } catch {
    // not a URL at all: the same answer
  }
  return { ok: false, error: `"${url}" is not a node URL. It should look like http://localhost:5555.` };
}
