// The chat app's state transitions, in Node: no DOM, no client; conversations and messages are plain objects.
import type { PostageRequiredQuote } from "@xmtp-ts/client";
import { describe, expect, it } from "vitest";
import type { PostageOutlook, PostageRefusalInput } from "./postage.js";
import {
  addToThread,
  conversationPreview,
  documentTitle,
  existingConversationWith,
  initialState,
  messageText,
  needsDraft,
  nodeUrlFromInput,
  notificationFor,
  outlookOfRefusal,
  reduce,
  sortedEntries,
  tabCounts,
  withHistory,
  type AppEvent,
  type AppState,
  type ConversationEntry,
  type SessionState,
} from "./state.js";
import type { ChatConversation, ChatMessage } from "./xmtp.js";

const ME = "0x1111111111111111111111111111111111111111";
const ALICE = "0xA11CE00000000000000000000000000000000001";
const BOB = "0xB0B0000000000000000000000000000000000002";
const API_URL = "http://localhost:5555";

const QUOTE: PostageRequiredQuote = {
  postage: "required",
  chainId: 31337n,
  vault: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  operator: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  priceWei: 1_000_000n,
  pricePerByteWei: 0n,
};

function conversation(peer: string, options: { topic?: string; createdAt?: number; conversationId?: string } = {}): ChatConversation {
  return {
    peerAddress: peer,
    topic: options.topic ?? `/xmtp/0/m-${peer}/proto`,
    createdAt: new Date(options.createdAt ?? 1_000),
    context: options.conversationId ? { conversationId: options.conversationId } : undefined,
    send: () => Promise.reject(new Error("not in this test")),
    messages: () => Promise.resolve([]),
  };
}

function message(id: string, from: string, at: number, where?: ChatConversation, content: unknown = `text ${id}`): ChatMessage {
  return { id, senderAddress: from, sent: new Date(at), content, conversation: where };
}

function run(state: AppState, ...events: AppEvent[]): AppState {
  return events.reduce(reduce, state);
}

/** Connected as ME, session 1. */
function connected(): AppState {
  return reduce(initialState, { type: "connected", sessionId: 1, walletKind: "development", address: ME, apiUrl: API_URL });
}

function session(state: AppState): SessionState {
  if (!state.session) throw new Error("no session");
  return state.session;
}

function entry(state: AppState, topic: string): ConversationEntry {
  const found = session(state).entries.get(topic);
  if (!found) throw new Error(`no entry for ${topic}`);
  return found;
}

const withAlice = conversation(ALICE);
const withBob = conversation(BOB, { createdAt: 2_000 });

describe("connecting", () => {
  it("is busy while connecting, shows the status, and clears it once connected", () => {
    let state = run(initialState, { type: "errorShown", message: "old" }, { type: "workStarted" });
    expect(state).toMatchObject({ busy: true, errorMessage: undefined });
    state = reduce(state, { type: "statusShown", status: "Connecting…" });
    expect(state.status).toBe("Connecting…");
    state = run(state, { type: "connected", sessionId: 1, walletKind: "browser", address: ME, apiUrl: API_URL }, { type: "workEnded" });
    expect(state.status).toBeUndefined();
    expect(state.busy).toBe(false);
    expect(session(state)).toMatchObject({ id: 1, walletKind: "browser", address: ME, apiUrl: API_URL, loadingList: true });
    expect(session(state).entries.size).toBe(0);
  });

  it("shows why connecting failed instead of the status", () => {
    const state = run(initialState, { type: "statusShown", status: "Waiting…" }, { type: "connectFailed", message: "declined" });
    expect(state).toMatchObject({ status: undefined, errorMessage: "declined" });
    expect(state.session).toBeUndefined();
  });

  it("forgets the session, the notice, and shows the reason on disconnect", () => {
    const state = run(
      connected(),
      { type: "connectionLost", notice: "Lost the connection" },
      { type: "disconnected", reason: "Your wallet switched accounts." },
    );
    expect(state).toMatchObject({ session: undefined, connectionNotice: undefined, errorMessage: "Your wallet switched accounts." });
    expect(reduce(connected(), { type: "disconnected" }).errorMessage).toBeUndefined();
  });

  it("takes node URLs without trailing slashes and refuses anything but http(s)", () => {
    expect(nodeUrlFromInput("  http://localhost:5555//  ")).toEqual({ ok: true, url: "http://localhost:5555" });
    expect(nodeUrlFromInput("https://node.example")).toEqual({ ok: true, url: "https://node.example" });
    expect(nodeUrlFromInput("ftp://node")).toEqual({
      ok: false,
      error: '"ftp://node" is not a node URL. It should look like http://localhost:5555.',
    });
    expect(nodeUrlFromInput("localhost:5555/")).toMatchObject({ ok: false });
    expect(nodeUrlFromInput("not a url")).toMatchObject({ ok: false, error: expect.stringContaining('"not a url"') });
  });
});

describe("the conversation list", () => {
  it("shows stored conversations at once, and is complete after the sync", () => {
    let state = reduce(connected(), { type: "storedListed", sessionId: 1, conversations: [] });
    expect(session(state).loadingList).toBe(true);
    state = reduce(state, { type: "storedListed", sessionId: 1, conversations: [withAlice] });
    expect(session(state).loadingList).toBe(false);
    state = reduce(connected(), { type: "conversationsListed", sessionId: 1, conversations: [withAlice, withBob] });
    expect(session(state).loadingList).toBe(false);
    expect([...session(state).entries.keys()]).toEqual([withAlice.topic, withBob.topic]);
  });

  it("keeps the first entry of a topic", () => {
    const again = conversation(ALICE);
    let state = reduce(connected(), { type: "conversationsListed", sessionId: 1, conversations: [withAlice] });
    state = reduce(state, { type: "latestLoaded", sessionId: 1, topic: withAlice.topic, message: message("m1", ALICE, 5_000) });
    state = reduce(state, { type: "conversationsSeen", sessionId: 1, conversations: [again, withBob] });
    expect(entry(state, withAlice.topic).conversation).toBe(withAlice);
    expect(entry(state, withAlice.topic).latest?.id).toBe("m1");
    expect(session(state).entries.size).toBe(2);
    // Nothing new: the very same state, so nothing is drawn again.
    expect(reduce(state, { type: "conversationsSeen", sessionId: 1, conversations: [withBob] })).toBe(state);
  });

  it("orders the list by latest activity, and previews the latest message", () => {
    let state = reduce(connected(), { type: "conversationsListed", sessionId: 1, conversations: [withAlice, withBob] });
    expect(sortedEntries(session(state)).map((e) => e.conversation.peerAddress)).toEqual([BOB, ALICE]);
    expect(conversationPreview(entry(state, withAlice.topic), ME)).toBe("No messages yet");
    state = reduce(state, { type: "latestLoaded", sessionId: 1, topic: withAlice.topic, message: message("m1", ME, 9_000, withAlice, "hi") });
    expect(sortedEntries(session(state)).map((e) => e.conversation.peerAddress)).toEqual([ALICE, BOB]);
    expect(conversationPreview(entry(state, withAlice.topic), ME)).toBe("You: hi");
  });

  it("keeps the later latest message", () => {
    let state = reduce(connected(), { type: "conversationsListed", sessionId: 1, conversations: [withAlice] });
    state = reduce(state, { type: "latestLoaded", sessionId: 1, topic: withAlice.topic, message: message("new", ALICE, 9_000) });
    state = reduce(state, { type: "latestLoaded", sessionId: 1, topic: withAlice.topic, message: message("old", ALICE, 1_000) });
    expect(entry(state, withAlice.topic).latest?.id).toBe("new");
  });

  it("stops loading and says why when listing fails", () => {
    const state = reduce(connected(), { type: "listFailed", sessionId: 1, message: "Could not load your conversations." });
    expect(session(state).loadingList).toBe(false);
    expect(state.errorMessage).toBe("Could not load your conversations.");
  });

  it("finds the conversation we already have with a peer, not one with a conversation id", () => {
    const withId = conversation(BOB, { topic: "/xmtp/0/m-bob-work/proto", conversationId: "work" });
    let state = reduce(connected(), { type: "conversationsListed", sessionId: 1, conversations: [withId] });
    expect(existingConversationWith(session(state), BOB)).toBeUndefined();
    state = reduce(state, { type: "conversationsSeen", sessionId: 1, conversations: [withBob] });
    expect(existingConversationWith(session(state), BOB)).toBe(withBob);
  });
});

describe("live messages", () => {
  const listed = () => reduce(connected(), { type: "conversationsListed", sessionId: 1, conversations: [withAlice, withBob] });

  it("counts a new message from the peer as unread, and titles the page with the count", () => {
    const state = run(
      listed(),
      { type: "messageStreamed", sessionId: 1, message: message("m1", ALICE, 5_000, withAlice) },
      { type: "messageStreamed", sessionId: 1, message: message("m2", BOB, 6_000, withBob) },
    );
    expect(entry(state, withAlice.topic).unread).toBe(1);
    expect(entry(state, withAlice.topic).latest?.id).toBe("m1");
    expect(documentTitle(state)).toBe("(2) XMTP chat");
    expect(documentTitle(initialState)).toBe("XMTP chat");
  });

  it("does not count our own messages, a message shown before, or one older than the latest", () => {
    const state = run(
      listed(),
      { type: "messageStreamed", sessionId: 1, message: message("mine", ME, 5_000, withAlice) },
      { type: "latestLoaded", sessionId: 1, topic: withBob.topic, message: message("b1", BOB, 7_000, withBob) },
      { type: "messageStreamed", sessionId: 1, message: message("b1", BOB, 7_000, withBob) },
      { type: "messageStreamed", sessionId: 1, message: message("b0", BOB, 6_000, withBob) },
    );
    expect(entry(state, withAlice.topic).unread).toBe(0);
    expect(entry(state, withBob.topic).unread).toBe(0);
    expect(entry(state, withBob.topic).latest?.id).toBe("b1");
  });

  it("adds a message in a new conversation to the list", () => {
    const carol = conversation("0xCA401000000000000000000000000000000000003");
    const state = reduce(listed(), { type: "messageStreamed", sessionId: 1, message: message("c1", carol.peerAddress, 5_000, carol) });
    expect(entry(state, carol.topic)).toMatchObject({ conversation: carol, unread: 1 });
  });

  it("ignores a message without its conversation, but it still shows the node is back", () => {
    const before = reduce(listed(), { type: "connectionLost", notice: "Lost the connection" });
    const state = reduce(before, { type: "messageStreamed", sessionId: 1, message: message("x", ALICE, 5_000) });
    expect(state.session).toBe(before.session);
    expect(state.connectionNotice).toBeUndefined();
  });

  it("does not count a message in the open conversation, and adds it to its thread in time order", () => {
    let state = run(listed(), { type: "selected", sessionId: 1, topic: withAlice.topic });
    state = reduce(state, {
      type: "historyLoaded",
      sessionId: 1,
      topic: withAlice.topic,
      history: [message("m1", ALICE, 1_000, withAlice), message("m3", ALICE, 3_000, withAlice)],
    });
    state = reduce(state, { type: "messageStreamed", sessionId: 1, message: message("m2", ALICE, 2_000, withAlice) });
    expect(entry(state, withAlice.topic).unread).toBe(0);
    expect(entry(state, withAlice.topic).messages?.map((m) => m.id)).toEqual(["m1", "m2", "m3"]);
    // The same message again (a stream re-reads a short window after reconnecting): once.
    state = reduce(state, { type: "messageStreamed", sessionId: 1, message: message("m2", ALICE, 2_000, withAlice) });
    expect(entry(state, withAlice.topic).messages?.map((m) => m.id)).toEqual(["m1", "m2", "m3"]);
  });

  it("shows the connection notice until something reaches the node", () => {
    let state = reduce(listed(), { type: "connectionLost", notice: "Lost the connection to the node. Reconnecting…" });
    expect(state.connectionNotice).toBe("Lost the connection to the node. Reconnecting…");
    expect(reduce(state, { type: "connectionRestored" }).connectionNotice).toBeUndefined();
    expect(reduce(state, { type: "conversationStreamed", sessionId: 1, conversation: withAlice }).connectionNotice).toBeUndefined();
    state = reduce(state, { type: "messageSent", sessionId: 1, topic: withAlice.topic, message: message("s", ME, 9_000, withAlice) });
    expect(state.connectionNotice).toBeUndefined();
  });
});

describe("opening a conversation", () => {
  const listed = () =>
    run(
      connected(),
      { type: "conversationsListed", sessionId: 1, conversations: [withAlice, withBob] },
      { type: "messageStreamed", sessionId: 1, message: message("m1", ALICE, 5_000, withAlice) },
    );

  it("selects it, clears its unread count and the draft, and loads its history the first time", () => {
    let state = run(listed(), { type: "draftOpened", sessionId: 1, peer: BOB, outlook: { kind: "unknown" } });
    expect(session(state).draft).toBeDefined();
    state = reduce(state, { type: "selected", sessionId: 1, topic: withAlice.topic });
    expect(session(state)).toMatchObject({ selectedTopic: withAlice.topic, draft: undefined });
    expect(entry(state, withAlice.topic)).toMatchObject({ unread: 0, loadingMessages: true });
    expect(entry(state, withAlice.topic).messages).toBeUndefined();
  });

  it("merges the history with messages that streamed in while it loaded", () => {
    let state = reduce(listed(), { type: "selected", sessionId: 1, topic: withAlice.topic });
    state = reduce(state, { type: "historyLoaded", sessionId: 1, topic: withAlice.topic, history: [] });
    state = reduce(state, { type: "messageStreamed", sessionId: 1, message: message("m9", ALICE, 9_000, withAlice) });
    const reloaded = withHistory(entry(state, withAlice.topic), [
      message("m1", ALICE, 5_000, withAlice),
      message("m9", ALICE, 9_000, withAlice),
      message("m0", ME, 1_000, withAlice),
    ]);
    expect(reloaded.messages?.map((m) => m.id)).toEqual(["m0", "m1", "m9"]);
    expect(reloaded.latest?.id).toBe("m9");
    expect(reloaded.loadingMessages).toBe(false);
  });

  it("notes a newer last message of the history as latest", () => {
    let state = reduce(listed(), { type: "selected", sessionId: 1, topic: withAlice.topic });
    state = reduce(state, {
      type: "historyLoaded",
      sessionId: 1,
      topic: withAlice.topic,
      history: [message("m1", ALICE, 5_000, withAlice), message("m2", ME, 6_000, withAlice)],
    });
    expect(entry(state, withAlice.topic)).toMatchObject({ loadingMessages: false });
    expect(entry(state, withAlice.topic).latest?.id).toBe("m2");
    expect(entry(state, withAlice.topic).messages).toHaveLength(2);
  });

  it("does not load again once loaded or loading", () => {
    let state = reduce(listed(), { type: "selected", sessionId: 1, topic: withAlice.topic });
    state = reduce(state, { type: "historyLoaded", sessionId: 1, topic: withAlice.topic, history: [] });
    state = reduce(state, { type: "selected", sessionId: 1, topic: withAlice.topic });
    expect(entry(state, withAlice.topic)).toMatchObject({ loadingMessages: false, messages: [] });
  });

  it("says why the history did not load, and stops loading", () => {
    let state = reduce(listed(), { type: "selected", sessionId: 1, topic: withAlice.topic });
    state = reduce(state, { type: "historyFailed", sessionId: 1, topic: withAlice.topic, message: "Could not load the messages." });
    expect(entry(state, withAlice.topic).loadingMessages).toBe(false);
    expect(state.errorMessage).toBe("Could not load the messages.");
  });

  it("ignores a topic it does not know", () => {
    const state = listed();
    expect(reduce(state, { type: "selected", sessionId: 1, topic: "/xmtp/0/unknown/proto" })).toBe(state);
  });
});

describe("drafts (postage)", () => {
  const free: PostageOutlook = { kind: "free", basis: "priorContact", quote: QUOTE };
  const required: PostageOutlook = { kind: "required", quote: QUOTE };
  const refusal: PostageRefusalInput = { recipients: [BOB], serverMessage: "postage required", quote: QUOTE, attempted: ["seal"] };

  it("opens a draft in place of the open conversation, each with its own id", () => {
    let state = run(
      connected(),
      { type: "conversationsListed", sessionId: 1, conversations: [withAlice] },
      { type: "selected", sessionId: 1, topic: withAlice.topic },
      { type: "draftOpened", sessionId: 1, peer: BOB, outlook: required },
    );
    expect(session(state).selectedTopic).toBeUndefined();
    expect(session(state).draft).toEqual({ id: 1, peer: BOB, outlook: required, sending: false });
    state = reduce(state, { type: "draftOpened", sessionId: 1, peer: BOB, outlook: outlookOfRefusal(refusal), refusal });
    expect(session(state).draft).toEqual({ id: 2, peer: BOB, outlook: required, refusal, sending: false });
  });

  it("goes through sending to a refusal, then to new terms once a grant is pasted", () => {
    let state = run(connected(), { type: "errorShown", message: "old" }, { type: "draftOpened", sessionId: 1, peer: BOB, outlook: required });
    state = reduce(state, { type: "draftSending", sessionId: 1, draftId: 1 });
    expect(session(state).draft).toMatchObject({ sending: true });
    expect(state.errorMessage).toBeUndefined();
    state = reduce(state, { type: "draftSettled", sessionId: 1, draftId: 1, refusal });
    expect(session(state).draft).toMatchObject({ sending: false, refusal });
    state = reduce(state, { type: "draftOutlookUpdated", sessionId: 1, draftId: 1, outlook: free });
    expect(session(state).draft).toMatchObject({ outlook: free, refusal: undefined });
  });

  it("adds the started conversation to the list", () => {
    let state = run(connected(), { type: "draftOpened", sessionId: 1, peer: BOB, outlook: free }, { type: "draftSending", sessionId: 1, draftId: 1 });
    state = reduce(state, { type: "draftSettled", sessionId: 1, draftId: 1, conversation: withBob });
    expect(session(state).draft).toMatchObject({ sending: false });
    expect(entry(state, withBob.topic).conversation).toBe(withBob);
  });

  it("leaves a later draft alone", () => {
    const state = run(
      connected(),
      { type: "draftOpened", sessionId: 1, peer: BOB, outlook: required },
      { type: "draftOpened", sessionId: 1, peer: ALICE, outlook: required },
    );
    for (const event of [
      { type: "draftSending", sessionId: 1, draftId: 1 },
      { type: "draftOutlookUpdated", sessionId: 1, draftId: 1, outlook: free },
      { type: "draftSettled", sessionId: 1, draftId: 1, refusal },
    ] as const) {
      expect(session(reduce(state, event)).draft).toEqual({ id: 2, peer: ALICE, outlook: required, sending: false });
    }
  });

  it("needs a draft when the first message costs something or is free thanks to postage", () => {
    expect(needsDraft(required)).toBe(true);
    expect(needsDraft(free)).toBe(true);
    expect(needsDraft({ kind: "off" })).toBe(false);
    expect(needsDraft({ kind: "unknown" })).toBe(false);
    expect(needsDraft(undefined)).toBe(false);
    expect(outlookOfRefusal({ ...refusal, quote: undefined })).toEqual({ kind: "unknown" });
  });
});

describe("sending", () => {
  it("locks the composer while sending and adds the sent message to the loaded thread", () => {
    let state = run(
      connected(),
      { type: "conversationsListed", sessionId: 1, conversations: [withAlice] },
      { type: "selected", sessionId: 1, topic: withAlice.topic },
      { type: "historyLoaded", sessionId: 1, topic: withAlice.topic, history: [] },
      { type: "sendStarted" },
    );
    expect(state.sending).toBe(true);
    state = run(state, { type: "messageSent", sessionId: 1, topic: withAlice.topic, message: message("s1", ME, 5_000, withAlice, "hello") }, { type: "sendEnded" });
    expect(state.sending).toBe(false);
    expect(entry(state, withAlice.topic).messages?.map(messageText)).toEqual(["hello"]);
    expect(entry(state, withAlice.topic).unread).toBe(0);
  });

  it("shows a message as sending at once, then sent in the thread", () => {
    const opened = run(
      connected(),
      { type: "conversationsListed", sessionId: 1, conversations: [withAlice] },
      { type: "selected", sessionId: 1, topic: withAlice.topic },
      { type: "historyLoaded", sessionId: 1, topic: withAlice.topic, history: [message("a1", ALICE, 1_000, withAlice, "hi")] },
    );
    let state = run(opened, { type: "outgoingQueued", sessionId: 1, topic: withAlice.topic, localId: "l1", text: "hello", written: new Date(5_000) });
    // The composer is not locked: the next message can be written meanwhile.
    expect(state.sending).toBe(false);
    expect(entry(state, withAlice.topic).outbox).toEqual([{ localId: "l1", text: "hello", written: new Date(5_000), status: "sending" }]);
    expect(entry(state, withAlice.topic).messages?.map(messageText)).toEqual(["hi"]);
    state = reduce(state, { type: "outgoingSent", sessionId: 1, topic: withAlice.topic, localId: "l1", message: message("s1", ME, 5_001, withAlice, "hello") });
    expect(entry(state, withAlice.topic).outbox).toEqual([]);
    expect(entry(state, withAlice.topic).messages?.map((m) => m.id)).toEqual(["a1", "s1"]);
    expect(entry(state, withAlice.topic).latest?.id).toBe("s1");
  });

  it("marks a refused message failed with why, and sending again on retry; others keep their order", () => {
    let state = run(
      connected(),
      { type: "conversationsListed", sessionId: 1, conversations: [withAlice] },
      { type: "selected", sessionId: 1, topic: withAlice.topic },
      { type: "outgoingQueued", sessionId: 1, topic: withAlice.topic, localId: "l1", text: "one", written: new Date(5_000) },
      { type: "outgoingQueued", sessionId: 1, topic: withAlice.topic, localId: "l2", text: "two", written: new Date(6_000) },
      { type: "outgoingFailed", sessionId: 1, topic: withAlice.topic, localId: "l1", error: "Cannot reach the XMTP node" },
    );
    expect(entry(state, withAlice.topic).outbox?.map((m) => [m.localId, m.status, m.error])).toEqual([
      ["l1", "failed", "Cannot reach the XMTP node"],
      ["l2", "sending", undefined],
    ]);
    // A failed send is not an app-wide error.
    expect(state.errorMessage).toBeUndefined();
    state = reduce(state, { type: "outgoingRetried", sessionId: 1, topic: withAlice.topic, localId: "l1" });
    expect(entry(state, withAlice.topic).outbox?.map((m) => [m.localId, m.status, m.error])).toEqual([
      ["l1", "sending", undefined],
      ["l2", "sending", undefined],
    ]);
    // Events about an unknown message, another session or another conversation change nothing.
    expect(reduce(state, { type: "outgoingFailed", sessionId: 1, topic: withAlice.topic, localId: "l9", error: "x" })).toBe(state);
    expect(reduce(state, { type: "outgoingFailed", sessionId: 2, topic: withAlice.topic, localId: "l1", error: "x" })).toBe(state);
    expect(reduce(state, { type: "outgoingRetried", sessionId: 1, topic: withBob.topic, localId: "l1" })).toBe(state);
  });

  it("does not show our message twice when the stream brings it before the send is confirmed", () => {
    let state = run(
      connected(),
      { type: "conversationsListed", sessionId: 1, conversations: [withAlice] },
      { type: "selected", sessionId: 1, topic: withAlice.topic },
      { type: "historyLoaded", sessionId: 1, topic: withAlice.topic, history: [] },
      { type: "outgoingQueued", sessionId: 1, topic: withAlice.topic, localId: "l1", text: "same", written: new Date(5_000) },
      { type: "outgoingQueued", sessionId: 1, topic: withAlice.topic, localId: "l2", text: "same", written: new Date(5_500) },
      { type: "messageStreamed", sessionId: 1, message: message("s1", ME, 5_001, withAlice, "same") },
    );
    // One of the two identical texts is confirmed by the stream; the other still waits for its own send.
    expect(entry(state, withAlice.topic).outbox?.map((m) => m.localId)).toEqual(["l2"]);
    expect(entry(state, withAlice.topic).messages?.map((m) => m.id)).toEqual(["s1"]);
    state = reduce(state, { type: "outgoingSent", sessionId: 1, topic: withAlice.topic, localId: "l1", message: message("s1", ME, 5_001, withAlice, "same") });
    expect(entry(state, withAlice.topic).messages?.map((m) => m.id)).toEqual(["s1"]);
    expect(entry(state, withAlice.topic).outbox?.map((m) => m.localId)).toEqual(["l2"]);
    // A message from the peer with the same text removes nothing.
    state = reduce(state, { type: "messageStreamed", sessionId: 1, message: message("a1", ALICE, 6_000, withAlice, "same") });
    expect(entry(state, withAlice.topic).outbox?.map((m) => m.localId)).toEqual(["l2"]);
  });

  it("keeps a message once in the thread", () => {
    const base: ConversationEntry = { conversation: withAlice, unread: 0, loadingMessages: false, messages: [] };
    const once = addToThread(base, message("s1", ME, 5_000));
    expect(once.added).toBe(true);
    const twice = addToThread(once.entry, message("s1", ME, 5_000));
    expect(twice.added).toBe(false);
    expect(twice.entry.messages).toHaveLength(1);
    // A thread not loaded yet only notes the latest message.
    const unloaded = addToThread({ ...base, messages: undefined }, message("s2", ME, 6_000));
    expect(unloaded).toMatchObject({ added: true, entry: { messages: undefined, latest: { id: "s2" } } });
  });
});

describe("the inbox split by consent", () => {
  const CAROL = "0xCA401000000000000000000000000000000000003";
  const withCarol = conversation(CAROL, { createdAt: 3_000 });
  const listed = () =>
    run(connected(), { type: "conversationsListed", sessionId: 1, conversations: [withAlice, withBob, withCarol] });
  const tabs = (state: AppState) =>
    Object.fromEntries((["messages", "requests", "blocked"] as const).map((tab) => [tab, sortedEntries(session(state), tab).map((e) => e.conversation.peerAddress)]));

  it("lists everything under Messages until the consent list is read, then splits allowed, unknown and denied", () => {
    let state = listed();
    expect(tabs(state)).toEqual({ messages: [CAROL, BOB, ALICE], requests: [], blocked: [] });
    state = reduce(state, { type: "consentLoaded", sessionId: 1, entries: [{ address: ALICE, state: "allowed" }, { address: BOB, state: "denied" }] });
    expect(tabs(state)).toEqual({ messages: [ALICE], requests: [CAROL], blocked: [BOB] });
    expect(session(state).tab).toBe("messages");
  });

  it("counts only accepted conversations' unread messages in the title; requests count as waiting conversations", () => {
    const state = run(
      listed(),
      { type: "consentLoaded", sessionId: 1, entries: [{ address: ALICE, state: "allowed" }, { address: BOB, state: "denied" }] },
      { type: "messageStreamed", sessionId: 1, message: message("a1", ALICE, 10_000, withAlice) },
      { type: "messageStreamed", sessionId: 1, message: message("b1", BOB, 10_000, withBob) },
      { type: "messageStreamed", sessionId: 1, message: message("c1", CAROL, 10_000, withCarol) },
      { type: "messageStreamed", sessionId: 1, message: message("c2", CAROL, 11_000, withCarol) },
    );
    expect(tabCounts(session(state))).toEqual({
      messages: { conversations: 1, unread: 1 },
      requests: { conversations: 1, unread: 2 },
      blocked: { conversations: 1, unread: 1 },
    });
    expect(documentTitle(state)).toBe("(1) XMTP chat");
  });

  it("moves a conversation when its consent changes, here or on another device, and the list follows the open one", () => {
    let state = run(
      listed(),
      { type: "consentLoaded", sessionId: 1, entries: [{ address: ALICE, state: "allowed" }] },
      { type: "tabSelected", sessionId: 1, tab: "requests" },
      { type: "selected", sessionId: 1, topic: withCarol.topic },
    );
    expect(session(state).tab).toBe("requests");
    // Accepted: Carol moves to Messages, and the list goes with her.
    state = reduce(state, { type: "consentChanged", sessionId: 1, changes: [{ address: CAROL, state: "allowed" }] });
    expect(tabs(state).messages).toEqual([CAROL, ALICE]);
    expect(session(state).tab).toBe("messages");
    // Another device blocks Bob, who is not open: the list stays where it is.
    state = reduce(state, { type: "consentChanged", sessionId: 1, changes: [{ address: BOB, state: "denied" }] });
    expect(tabs(state)).toEqual({ messages: [CAROL, ALICE], requests: [], blocked: [BOB] });
    expect(session(state).tab).toBe("messages");
    // Blocking the open conversation takes the list to Blocked; unknown again puts it back among requests.
    state = reduce(state, { type: "consentChanged", sessionId: 1, changes: [{ address: CAROL, state: "denied" }] });
    expect(session(state).tab).toBe("blocked");
    state = reduce(state, { type: "consentChanged", sessionId: 1, changes: [{ address: CAROL, state: "unknown" }] });
    expect(tabs(state).requests).toEqual([CAROL]);
    expect(session(state).tab).toBe("requests");
  });

  it("ignores consent events of an ended session, and selecting the tab already shown", () => {
    const state = listed();
    expect(reduce(state, { type: "consentLoaded", sessionId: 2, entries: [] })).toBe(state);
    expect(reduce(state, { type: "consentChanged", sessionId: 2, changes: [{ address: ALICE, state: "denied" }] })).toBe(state);
    expect(reduce(state, { type: "tabSelected", sessionId: 1, tab: "messages" })).toBe(state);
    expect(session(reduce(state, { type: "tabSelected", sessionId: 1, tab: "blocked" })).tab).toBe("blocked");
  });
});

describe("desktop notifications", () => {
  it("notify a new message from the peer, a request as one, and not ours, a blocked peer's, a known one or a reaction", () => {
    const state = run(
      connected(),
      { type: "conversationsListed", sessionId: 1, conversations: [withAlice, withBob] },
      { type: "consentLoaded", sessionId: 1, entries: [{ address: ALICE, state: "allowed" }] },
      { type: "messageStreamed", sessionId: 1, message: message("a1", ALICE, 5_000, withAlice, "earlier") },
    );
    const s = session(state);
    expect(notificationFor(s, message("a2", ALICE, 6_000, withAlice, "are you there?"))).toEqual({
      title: "0xA11C…0001",
      body: "are you there?",
      topic: withAlice.topic,
    });
    expect(notificationFor(s, message("b1", BOB, 6_000, withBob, "hi"))?.title).toBe("Message request from 0xB0B0…0002");
    expect(notificationFor(s, message("m1", ME, 6_000, withAlice, "mine"))).toBeUndefined();
    // Already shown, or older than what the list has: a stream re-reading a window after a reconnect.
    expect(notificationFor(s, message("a1", ALICE, 5_000, withAlice, "earlier"))).toBeUndefined();
    expect(notificationFor(s, message("a0", ALICE, 4_000, withAlice, "older"))).toBeUndefined();
    const reacted: ChatMessage = {
      ...message("a3", ALICE, 7_000, withAlice),
      content: { reference: "a1", action: "added", schema: "unicode", content: "👍" },
      contentType: { authorityId: "xmtp.org", typeId: "reaction", versionMajor: 1, versionMinor: 0 },
    };
    expect(notificationFor(s, reacted)).toBeUndefined();
    const blocked = session(reduce(state, { type: "consentChanged", sessionId: 1, changes: [{ address: BOB, state: "denied" }] }));
    expect(notificationFor(blocked, message("b2", BOB, 7_000, withBob, "let me in"))).toBeUndefined();
    // Long texts are cut.
    const long = notificationFor(s, message("a4", ALICE, 8_000, withAlice, "x".repeat(500)));
    expect(long?.body).toHaveLength(140);
    expect(long?.body.endsWith("…")).toBe(true);
  });

  it("keeps the browser's answer about permission", () => {
    const state = reduce(initialState, { type: "notificationsChecked", setting: "default" });
    expect(state.notifications).toBe("default");
    expect(reduce(state, { type: "notificationsChecked", setting: "default" })).toBe(state);
    expect(reduce(state, { type: "notificationsChecked", setting: "granted" }).notifications).toBe("granted");
  });
});

describe("a session that has ended", () => {
  it("is not changed by what was begun for it, though errors and notices still show", () => {
    const ended = run(connected(), { type: "disconnected" }, {
      type: "connected",
      sessionId: 2,
      walletKind: "development",
      address: ME,
      apiUrl: API_URL,
    });
    const stale: AppEvent[] = [
      { type: "storedListed", sessionId: 1, conversations: [withAlice] },
      { type: "conversationsListed", sessionId: 1, conversations: [withAlice] },
      { type: "conversationsSeen", sessionId: 1, conversations: [withAlice] },
      { type: "latestLoaded", sessionId: 1, topic: withAlice.topic, message: message("m", ALICE, 1) },
      { type: "selected", sessionId: 1, topic: withAlice.topic },
      { type: "draftOpened", sessionId: 1, peer: BOB, outlook: { kind: "off" } },
    ];
    for (const event of stale) expect(reduce(ended, event)).toBe(ended);
    const failed = reduce(ended, { type: "historyFailed", sessionId: 1, topic: withAlice.topic, message: "Could not load the messages." });
    expect(failed.session).toBe(ended.session);
    expect(failed.errorMessage).toBe("Could not load the messages.");
  });
});

describe("message text", () => {
  it("shows text, a fallback, or says what it could not show", () => {
    expect(messageText(message("a", ALICE, 1, undefined, "hi"))).toBe("hi");
    expect(messageText({ ...message("b", ALICE, 1), content: { emoji: "👍" }, contentFallback: "Reacted 👍" })).toBe("Reacted 👍");
    expect(messageText({ ...message("c", ALICE, 1), content: 42 })).toBe("(a message this app cannot display)");
    expect(messageText({ ...message("d", ALICE, 1), error: new Error("bad signature") })).toBe(
      "⚠ This message could not be decrypted or verified.",
    );
  });
});
