// What the user's actions and a session's background work do: client calls, streams, timers and storage. Each step
// is reported to the state as an event (state.ts); the inputs the user types in are the views' (ChatUi).
import type { AppConfig } from "../config.js";
import { explainGrantError, type PostageOutlook, type PostageRefusalInput } from "../postage.js";
import {
  existingConversationWith,
  needsDraft,
  nodeUrlFromInput,
  outlookOfRefusal,
  notificationFor,
  outgoingMessage,
  selectedEntry,
  tabOf,
  type AppEvent,
  type AppState,
  type Draft,
  type InboxTab,
  type SessionState,
  type WalletKind,
} from "../state.js";
import { forgetDevelopmentWallet } from "../wallets.js";
import {
  consentActionAddresses,
  explainError,
  nodeAnswers,
  parsePeerAddress,
  postageRefusalOf,
  sendReaction,
  sendText,
  type ChatConversation,
  type ChatMessage,
} from "../xmtp.js";
import { browserNotifier, type Notifier } from "./notifications.js";
import { PushNotifications } from "./push.js";
import { reactionsByMessage, reactionToggle } from "../reactions.js";
import { loadLatestMessages, outlookFor, storedConversations } from "./conversations.js";
import { persistGrants } from "./grants.js";
import { clearSessionRecord, loadSessionRecord, saveSessionRecord, shouldRestore } from "../sessionRecord.js";
import { closeSession, forgetSessionKeys, openSession, restoreSession, type LiveSession } from "./session.js";
import { pollUntilUnwanted, superviseStream } from "./streams.js";

/** The state, and where events about it go. */
export interface Store {
  getState(): AppState;
  dispatch(event: AppEvent): void;
}

/** What the effects ask of the page beyond the state: the inputs keep what the user typed across renders. */
export interface ChatUi {
  /** Draws again: what the page shows also depends on storage (the saved development wallet). */
  refresh(): void;
  focusComposer(): void;
  /** Empties the composer (its text was sent). */
  clearComposer(): void;
  clearNewConversationAddress(): void;
  clearGrantInput(): void;
  /** Empties what was typed for the session: the composer, the address to message, the grant. */
  clearSessionInputs(): void;
  /** How the page names a peer (the verified ENS name, else the short address): push notifications name them so. */
  peerLabel(address: string): string;
}

export class ChatController {
  private live?: LiveSession;
  private sessionsOpened = 0;
  private watchingConnection = false;
  /** How many messages were written in this page: the next one's local id. */
  private outgoingWritten = 0;
  /** Per conversation topic, the send that the next one waits for. */
  private readonly deliveries = new Map<string, Promise<void>>();
  private readonly notifier: Notifier;
  /** Push notifications of the current session, when a notification service is configured. */
  private push?: PushNotifications;
  /** A conversation to open once the list has it (the page was opened from a push notification: ?open=). */
  private pendingOpen?: string;

  constructor(
    private readonly store: Store,
    private readonly config: AppConfig,
    private readonly ui: ChatUi,
  ) {
    this.notifier = config.notifier ?? browserNotifier();
    this.pendingOpen = config.openTopic;
  }

  private dispatch(event: AppEvent): void {
    this.store.dispatch(event);
  }

  /** The session's state while it is the current one. */
  private stateOf(live: LiveSession): SessionState | undefined {
    const session = this.store.getState().session;
    return session && session.id === live.id ? session : undefined;
  }

  // ── connecting ─────────────────────────────────────────────────────────────────────────────────────────────

  async connect(kind: WalletKind, apiUrlInput: string): Promise<void> {
    if (this.store.getState().busy) return;
    const parsed = nodeUrlFromInput(apiUrlInput);
    if (!parsed.ok) {
      this.dispatch({ type: "errorShown", message: parsed.error });
      return;
    }
    const apiUrl = parsed.url;
    this.config.saveApiUrl(apiUrl);
    this.dispatch({ type: "workStarted" });
    try {
      const live = await openSession(++this.sessionsOpened, kind, apiUrl, this.config, (status) =>
        this.dispatch({ type: "statusShown", status }),
      );
      this.begin(live);
    } catch (err) {
      this.dispatch({ type: "connectFailed", message: explainError(err, apiUrl) });
    } finally {
      this.dispatch({ type: "workEnded" });
    }
  }

  /**
   * Goes back to the session that was open when the page was left (sessionRecord.ts), without asking the user
   * anything; the connect screen stays when that cannot be done silently.
   */
  async restore(): Promise<void> {
    const record = loadSessionRecord(this.config.storage);
    if (!shouldRestore(record, this.config.apiUrl) || this.store.getState().busy || this.live) return;
    this.dispatch({ type: "workStarted" });
    try {
      const live = await restoreSession(++this.sessionsOpened, record, this.config, (status) =>
        this.dispatch({ type: "statusShown", status }),
      );
      if (live) this.begin(live);
      else clearSessionRecord(this.config.storage);
    } catch (err) {
      // Kept: the next reload tries again (the node may be back by then).
      this.dispatch({ type: "connectFailed", message: `Could not restore your session. ${explainError(err, record.apiUrl)}` });
    } finally {
      this.dispatch({ type: "workEnded" });
    }
  }

  /** A session is open: shown, remembered for a reload, its list loaded and its streams started. */
  private begin(live: LiveSession): void {
    this.live = live;
    this.dispatch({
      type: "connected",
      sessionId: live.id,
      walletKind: live.wallet.kind,
      address: live.client.address,
      apiUrl: live.apiUrl,
    });
    saveSessionRecord(this.config.storage, { kind: live.wallet.kind, address: live.client.address, apiUrl: live.apiUrl });
    void this.loadConversations(live);
    void this.loadConsent(live);
    this.startStreams(live);
    this.dispatch({ type: "notificationsChecked", setting: this.notifier.setting() });
    this.startPush(live);
  }

  // ── push notifications ─────────────────────────────────────────────────────────────────────────────────────

  /** With a notification service configured: follows the installation kept from an earlier visit, or offers one. */
  private startPush(live: LiveSession): void {
    const notifyUrl = this.config.notifyUrl;
    if (!notifyUrl) {
      this.dispatch({ type: "pushChanged", push: undefined });
      return;
    }
    const push = new PushNotifications(live.client, {
      notifyUrl,
      storage: this.config.storage,
      report: (state) => {
        if (this.push === push) this.dispatch({ type: "pushChanged", push: state });
      },
      labels: () => this.pushLabels(live),
      showError: (message) => this.dispatch({ type: "errorShown", message }),
      saveNotifyUrl: this.config.saveNotifyUrl,
    });
    this.push = push;
    void push.resume();
  }

  /** What the service worker names each conversation by (it cannot decrypt: the page tells it). */
  private pushLabels(live: LiveSession) {
    const session = this.stateOf(live);
    if (!session) return [];
    return [...session.entries.values()].map(({ conversation }) => ({
      topic: conversation.topic,
      peer: this.ui.peerLabel(conversation.peerAddress),
      ...(conversation.context?.conversationId ? { conversationId: conversation.context.conversationId } : {}),
    }));
  }

  /** Peers' names changed (an ENS lookup finished): notifications should use them. */
  namesChanged(): void {
    this.push?.refreshLabels();
  }

  /** "Stop notifications": the installation is deleted and the push subscription ended. */
  async disableNotifications(): Promise<void> {
    await this.push?.disable();
  }

  /** The service worker asked to open a conversation (its notification was clicked while this window was open). */
  openConversation(topic: string): void {
    const live = this.live;
    if (!live) return;
    if (this.stateOf(live)?.entries.has(topic)) void this.openFromNotification(live, topic);
    else this.pendingOpen = topic;
  }

  /** Opens the conversation a notification asked for, once the list has it. */
  private openPending(live: LiveSession): void {
    const topic = this.pendingOpen;
    if (!topic || !this.stateOf(live)?.entries.has(topic)) return;
    this.pendingOpen = undefined;
    void this.openFromNotification(live, topic);
  }

  // ── desktop notifications ──────────────────────────────────────────────────────────────────────────────────

  /** The user asked for notifications (a click): only now does the browser ask for permission. */
  async enableNotifications(): Promise<void> {
    const setting = await this.notifier.request();
    this.dispatch({ type: "notificationsChecked", setting });
    // Push too, when a notification service is configured: notified even with the tab closed.
    await this.push?.enable(setting);
  }

  /** A message streamed in: notified while the tab is hidden, if it deserves it (state.ts notificationFor). */
  private notify(live: LiveSession, message: ChatMessage): void {
    if (!this.notifier.hidden() || this.notifier.setting() !== "granted") return;
    const session = this.stateOf(live);
    const notification = session && notificationFor(session, message, (address) => this.ui.peerLabel(address));
    if (!notification) return;
    this.notifier.show(notification.title, notification.body, notification.topic, () => void this.openFromNotification(live, notification.topic));
  }

  /** Opens the conversation a notification was about, in the part of the inbox where it is listed. */
  private async openFromNotification(live: LiveSession, topic: string): Promise<void> {
    const session = this.stateOf(live);
    const entry = session?.entries.get(topic);
    if (!session || !entry) return;
    this.selectTab(tabOf(session, entry));
    await this.select(topic);
  }

  /** Reads the consent list, which sorts the inbox into Messages, Requests and Blocked. */
  private async loadConsent(live: LiveSession): Promise<void> {
    try {
      const entries = await live.client.contacts.loadConsentList();
      if (!live.closed) this.dispatch({ type: "consentLoaded", sessionId: live.id, entries });
    } catch (err) {
      // Everything stays under Messages: better than hiding conversations behind a list that could not be read.
      console.warn("XMTP chat: could not read the consent list.", err);
    }
  }

  /** Tells the state what the client's consent list now says of `peers` (after we allowed, denied, or wrote). */
  private noteConsent(live: LiveSession, peers: readonly string[]): void {
    const changes = peers.map((address) => ({ address, state: live.client.contacts.consentState(address) }));
    this.dispatch({ type: "consentChanged", sessionId: live.id, changes });
  }

  /** Accepts a request (allows the peer) or unblocks; blocks with `allowed` false. Other devices follow. */
  async setConsent(peer: string, allowed: boolean): Promise<void> {
    const live = this.live;
    if (!live) return;
    try {
      if (allowed) await live.client.contacts.allow([peer]);
      else await live.client.contacts.deny([peer]);
      this.noteConsent(live, [peer]);
    } catch (err) {
      this.dispatch({
        type: "errorShown",
        message: `Could not ${allowed ? "accept" : "block"} ${peer}. ${explainError(err, live.apiUrl)}`,
      });
    }
  }

  selectTab(tab: InboxTab): void {
    const live = this.live;
    if (live) this.dispatch({ type: "tabSelected", sessionId: live.id, tab });
  }

  /** Ends the session (if any) and shows the connect screen, with `reason` if given. A reload then stays there. */
  disconnect(reason?: string): void {
    clearSessionRecord(this.config.storage);
    // This browser stops being notified for the wallet that leaves, as it forgets its keys.
    void this.push?.disable();
    this.push = undefined;
    if (this.live) {
      void forgetSessionKeys(this.live);
      closeSession(this.live);
    }
    this.live = undefined;
    this.ui.clearSessionInputs();
    this.dispatch({ type: "disconnected", reason });
  }

  /** The browser wallet switched accounts: a session of the old account must not go on as if nothing happened. */
  accountsChanged(): void {
    if (this.store.getState().session?.walletKind === "browser") {
      this.disconnect("Your wallet switched accounts. Connect again to chat as the new account.");
    }
  }

  forgetDevelopmentWallet(): void {
    forgetDevelopmentWallet(this.config.storage);
    this.ui.refresh();
  }

  // ── the session's background work ──────────────────────────────────────────────────────────────────────────

  private async loadConversations(live: LiveSession): Promise<void> {
    const sessionId = live.id;
    try {
      // What the inbox database holds shows at once (a reload lists without waiting for the node); the sync then
      // adds what is new, which on a first visit is everything.
      const stored = await storedConversations(live.client);
      this.dispatch({ type: "storedListed", sessionId, conversations: stored });
      this.listChanged(live);
      const listed = [...(this.stateOf(live)?.entries.values() ?? [])].map((entry) => entry.conversation);
      const storedPreviews = this.loadLatestMessages(live, listed);
      // Reported when awaited below; until then a failing sync must not leave it unhandled.
      storedPreviews.catch(() => undefined);
      const conversations = await live.client.conversations.list();
      const known = this.stateOf(live)?.entries;
      const fresh = conversations.filter((conversation) => !known?.has(conversation.topic));
      this.dispatch({ type: "conversationsListed", sessionId, conversations });
      this.listChanged(live);
      await Promise.all([storedPreviews, this.loadLatestMessages(live, fresh)]);
    } catch (err) {
      if (!live.closed) {
        this.dispatch({
          type: "listFailed",
          sessionId,
          message: `Could not load your conversations. ${explainError(err, live.apiUrl)}`,
        });
      }
    }
  }

  /** The list has new conversations: their push labels are written, and one a notification asked for opens. */
  private listChanged(live: LiveSession): void {
    this.push?.refreshLabels();
    this.openPending(live);
  }

  private loadLatestMessages(live: LiveSession, conversations: readonly ChatConversation[]): Promise<void> {
    return loadLatestMessages(
      conversations,
      () => live.closed,
      (conversation, message) => this.dispatch({ type: "latestLoaded", sessionId: live.id, topic: conversation.topic, message }),
    );
  }

  private startStreams(live: LiveSession): void {
    const sessionId = live.id;
    // The client reconnects and fills the gap by itself; the notice tells the user why nothing arrives meanwhile.
    const onConnectionLost = () => {
      if (live.closed || this.live !== live) return;
      this.dispatch({ type: "connectionLost", notice: `Lost the connection to the node at ${live.apiUrl}. Reconnecting…` });
      this.watchForReconnection(live);
    };
    const onFailure = (err: unknown) =>
      this.dispatch({ type: "errorShown", message: `Live updates were interrupted; reconnecting. ${explainError(err, live.apiUrl)}` });
    superviseStream(
      live,
      () => live.client.conversations.stream(onConnectionLost),
      (conversation) => {
        this.dispatch({ type: "conversationStreamed", sessionId, conversation });
        this.listChanged(live);
      },
      onFailure,
    );
    superviseStream(
      live,
      () => live.client.conversations.streamAllMessages(onConnectionLost),
      (message) => {
        this.notify(live, message);
        this.dispatch({ type: "messageStreamed", sessionId, message });
      },
      onFailure,
    );
    // Consent set on another device (or the public SDK) moves conversations between Messages, Requests, Blocked.
    superviseStream(
      live,
      () => live.client.contacts.streamConsentList(onConnectionLost),
      (action) => this.noteConsent(live, consentActionAddresses(action)),
      onFailure,
    );
  }

  /** Clears the connection notice once the node answers again, even if nothing new arrives to say so. */
  private watchForReconnection(live: LiveSession): void {
    if (this.watchingConnection) return;
    this.watchingConnection = true;
    const wanted = () => this.store.getState().connectionNotice !== undefined && !live.closed && this.live === live;
    void pollUntilUnwanted(
      wanted,
      () => nodeAnswers(live.client.address, live.apiUrl),
      () => this.dispatch({ type: "connectionRestored" }),
    ).finally(() => {
      this.watchingConnection = false;
    });
  }

  // ── conversations ──────────────────────────────────────────────────────────────────────────────────────────

  /** Opens a conversation of the list, loading its history the first time. */
  async select(topic: string): Promise<void> {
    const live = this.live;
    const entry = this.store.getState().session?.entries.get(topic);
    if (!live || !entry) return;
    const needsHistory = !entry.messages && !entry.loadingMessages;
    this.dispatch({ type: "selected", sessionId: live.id, topic });
    this.ui.focusComposer();
    if (!needsHistory) return;
    try {
      const history = await entry.conversation.messages();
      // Messages may have streamed in while the history loaded: the state keeps both, once each.
      this.dispatch({ type: "historyLoaded", sessionId: live.id, topic, history });
    } catch (err) {
      this.dispatch({
        type: "historyFailed",
        sessionId: live.id,
        topic,
        message: `Could not load the messages. ${explainError(err, live.apiUrl)}`,
      });
    }
  }

  /** Starts a conversation with the address typed in; a draft first when postage is on. */
  async startConversation(addressInput: string): Promise<void> {
    const live = this.live;
    const state = this.store.getState();
    const session = state.session;
    if (!live || !session || state.busy) return;
    let peer: string;
    try {
      peer = parsePeerAddress(addressInput);
    } catch (err) {
      this.dispatch({ type: "errorShown", message: (err as Error).message });
      return;
    }
    if (peer === session.address) {
      this.dispatch({
        type: "errorShown",
        message: "That is your own address. Enter someone else's address to start a conversation.",
      });
      return;
    }
    this.dispatch({ type: "workStarted" });
    try {
      if (!(await live.client.canMessage(peer))) {
        this.dispatch({
          type: "errorShown",
          message: `${peer} is not on the XMTP network yet. They need to connect to this node once (with this app or "xmtp init") before you can message them.`,
        });
        return;
      }
      // A conversation we already have costs nothing to open again (no invitation is sent).
      const existing = await this.existingConversationWith(live, peer);
      const outlook = existing ? undefined : await outlookFor(live.client, peer);
      if (needsDraft(outlook)) {
        // The node charges strangers: the conversation starts with the first message, once the user has read
        // what it costs, or why it is free.
        this.ui.clearNewConversationAddress();
        this.openDraft(live, peer, outlook);
        return;
      }
      let conversation: ChatConversation;
      try {
        conversation = existing ?? (await live.client.conversations.newConversation(peer));
      } catch (err) {
        // The terms said nothing was due (or could not be read) but the node refused anyway: explain it in the thread.
        const refusal = postageRefusalOf(err);
        if (!refusal) throw err;
        this.ui.clearNewConversationAddress();
        this.openDraft(live, peer, outlookOfRefusal(refusal), refusal);
        return;
      }
      this.dispatch({ type: "conversationsSeen", sessionId: live.id, conversations: [conversation] });
      // Starting a conversation allows the peer: it is listed under Messages, which the list shows.
      this.noteConsent(live, [conversation.peerAddress]);
      this.selectTab("messages");
      this.ui.clearNewConversationAddress();
      await this.select(conversation.topic);
    } catch (err) {
      this.dispatch({ type: "errorShown", message: `Could not start the conversation. ${explainError(err, live.apiUrl)}` });
    } finally {
      this.dispatch({ type: "workEnded" });
    }
  }

  /** The conversation with `peer` we already have (no conversation id), after catching up with the network. */
  private async existingConversationWith(live: LiveSession, peer: string): Promise<ChatConversation | undefined> {
    try {
      const conversations = await live.client.conversations.list();
      this.dispatch({ type: "conversationsSeen", sessionId: live.id, conversations });
    } catch {
      // The list as it stands; newConversation looks again.
    }
    const session = this.stateOf(live);
    return session && existingConversationWith(session, peer);
  }

  private openDraft(live: LiveSession, peer: string, outlook: PostageOutlook, refusal?: PostageRefusalInput): void {
    this.dispatch({ type: "draftOpened", sessionId: live.id, peer, outlook, refusal });
    // Grants that arrived inside messages are kept by the client: save them with the pasted ones.
    persistGrants(this.config.storage, live.client);
    this.ui.focusComposer();
  }

  /** Takes a pasted relationship grant, keeps it across reloads, and says again what the first message costs. */
  async useGrant(draft: Draft, grantInput: string): Promise<void> {
    const live = this.live;
    if (!live) return;
    const text = grantInput.trim();
    if (!text) {
      this.dispatch({ type: "errorShown", message: `Paste the relationship grant ${draft.peer} gave you (a base64 text) first.` });
      return;
    }
    let grantor: string;
    try {
      grantor = live.client.postage.acceptGrant(text).grantor;
    } catch (err) {
      const { reason, detail } = err as { reason?: unknown; detail?: unknown };
      const message =
        typeof reason === "string" ? explainGrantError(reason, String(detail ?? "")) : `That grant cannot be used: ${(err as Error).message}`;
      this.dispatch({ type: "errorShown", message });
      return;
    }
    persistGrants(this.config.storage, live.client);
    this.ui.clearGrantInput();
    if (grantor !== draft.peer) {
      this.dispatch({
        type: "errorShown",
        message: `That grant is from ${grantor}, not from ${draft.peer}: it makes first messages to ${grantor} free, not this one.`,
      });
    } else {
      this.dispatch({ type: "errorDismissed" });
    }
    const outlook = await outlookFor(live.client, draft.peer);
    this.dispatch({ type: "draftOutlookUpdated", sessionId: live.id, draftId: draft.id, outlook });
  }

  // ── sending ────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Sends the composer's text in the open conversation: it shows at once as sending, then as sent, or as failed
   * with a retry. A drafted conversation starts with it instead (the composer waits: postage may refuse it).
   */
  async sendMessage(composerText: string): Promise<void> {
    const live = this.live;
    const state = this.store.getState();
    const session = state.session;
    const entry = session && selectedEntry(session);
    const draft = session && !session.selectedTopic ? session.draft : undefined;
    const text = composerText.trim();
    if (!live || !session || (!entry && !draft) || text.length === 0 || state.sending) return;
    if (entry) {
      const localId = `local-${++this.outgoingWritten}`;
      const topic = entry.conversation.topic;
      const replyTo = session.replyingTo?.topic === topic ? session.replyingTo.messageId : undefined;
      this.dispatch({ type: "outgoingQueued", sessionId: live.id, topic, localId, text, written: new Date(), replyTo });
      this.ui.clearComposer();
      this.ui.focusComposer();
      await this.deliver(live, entry.conversation, localId, text, replyTo);
      return;
    }
    this.dispatch({ type: "sendStarted" });
    try {
      const conversation = draft ? await this.startFromDraft(live, draft) : undefined;
      // Refused for postage: the thread says why, and the text stays in the box.
      if (!conversation) return;
      const message = await conversation.send(text);
      this.dispatch({ type: "messageSent", sessionId: live.id, topic: conversation.topic, message });
      this.ui.clearComposer();
    } catch (err) {
      // The text stays in the box so nothing typed is lost.
      this.dispatch({ type: "errorShown", message: `Your message was not sent. ${explainError(err, live.apiUrl)}` });
    } finally {
      this.dispatch({ type: "sendEnded" });
      this.ui.focusComposer();
    }
  }

  /** Sends a failed message again. */
  async retry(topic: string, localId: string): Promise<void> {
    const live = this.live;
    const entry = live && this.stateOf(live)?.entries.get(topic);
    const item = entry && outgoingMessage(entry, localId);
    if (!live || !entry || !item || item.status !== "failed") return;
    this.dispatch({ type: "outgoingRetried", sessionId: live.id, topic, localId });
    await this.deliver(live, entry.conversation, localId, item.text, item.replyTo);
  }

  /** Tapping an emoji on a message: adds our reaction, or takes it back if we had it on. */
  async react(topic: string, messageId: string, emoji: string): Promise<void> {
    const live = this.live;
    const entry = live && this.stateOf(live)?.entries.get(topic);
    if (!live || !entry) return;
    const action = reactionToggle(reactionsByMessage(entry.messages ?? [], live.client.address).get(messageId), emoji);
    try {
      const message = await sendReaction(entry.conversation, messageId, emoji, action);
      this.dispatch({ type: "messageSent", sessionId: live.id, topic, message });
    } catch (err) {
      this.dispatch({ type: "errorShown", message: `Your reaction was not sent. ${explainError(err, live.apiUrl)}` });
    }
  }

  /** The composer quotes `messageId`: the next message sent in its conversation answers it. */
  startReply(topic: string, messageId: string): void {
    const live = this.live;
    if (!live) return;
    this.dispatch({ type: "replyStarted", sessionId: live.id, topic, messageId });
    this.ui.focusComposer();
  }

  cancelReply(): void {
    const live = this.live;
    if (live) this.dispatch({ type: "replyCancelled", sessionId: live.id });
  }

  /**
   * Sends an outgoing message and reports it sent or failed. One conversation's messages go one after another, in
   * the order they were written, so the peer reads them in that order.
   */
  private deliver(live: LiveSession, conversation: ChatConversation, localId: string, text: string, replyTo?: string): Promise<void> {
    const topic = conversation.topic;
    const previous = this.deliveries.get(topic) ?? Promise.resolve();
    const delivery = previous.then(async () => {
      if (live.closed) return;
      try {
        const message = await sendText(conversation, text, replyTo);
        this.dispatch({ type: "outgoingSent", sessionId: live.id, topic, localId, message });
        // Replying to a request accepts it (the client allows the peer).
        this.noteConsent(live, [conversation.peerAddress]);
      } catch (err) {
        this.dispatch({ type: "outgoingFailed", sessionId: live.id, topic, localId, error: explainError(err, live.apiUrl) });
      }
    });
    this.deliveries.set(topic, delivery);
    void delivery.then(() => {
      if (this.deliveries.get(topic) === delivery) this.deliveries.delete(topic);
    });
    return delivery;
  }

  /** Starts the drafted conversation (its invitation is the first message postage is about); undefined if refused. */
  private async startFromDraft(live: LiveSession, draft: Draft): Promise<ChatConversation | undefined> {
    const sessionId = live.id;
    this.dispatch({ type: "draftSending", sessionId, draftId: draft.id });
    let conversation: ChatConversation;
    try {
      conversation = await live.client.conversations.newConversation(draft.peer);
    } catch (err) {
      const refusal = postageRefusalOf(err);
      this.dispatch({ type: "draftSettled", sessionId, draftId: draft.id, refusal });
      if (!refusal) throw err;
      return undefined;
    }
    this.dispatch({ type: "draftSettled", sessionId, draftId: draft.id, conversation });
    this.noteConsent(live, [conversation.peerAddress]);
    this.selectTab("messages");
    // The list's entry keeps the conversation it first saw under this topic (a stream may have been first).
    const listed = this.stateOf(live)?.entries.get(conversation.topic)?.conversation ?? conversation;
    if (this.stateOf(live)?.draft?.id === draft.id) await this.select(conversation.topic);
    return listed;
  }
}
