// Reactions and replies as the thread shows them, in Node with plain message objects.
import { describe, expect, it } from "vitest";
import { plainText, reactionOf, reactionsByMessage, reactionToggle, replyOf } from "./reactions.js";
import { initialState, messageText, reduce, type AppState } from "./state.js";
import type { ChatConversation, ChatMessage } from "./xmtp.js";

const ME = "0x1111111111111111111111111111111111111111";
const ALICE = "0xA11CE00000000000000000000000000000000001";
const BOB = "0xB0B0000000000000000000000000000000000002";
const REACTION = { authorityId: "xmtp.org", typeId: "reaction", versionMajor: 1, versionMinor: 0 };
const REPLY = { authorityId: "xmtp.org", typeId: "reply", versionMajor: 1, versionMinor: 0 };
const TEXT = { authorityId: "xmtp.org", typeId: "text", versionMajor: 1, versionMinor: 0 };

let at = 1_000;
function text(id: string, from: string, content: string): ChatMessage {
  return { id, senderAddress: from, sent: new Date(at++), content, contentType: TEXT };
}
function reaction(from: string, reference: string, emoji: string, action: "added" | "removed" = "added"): ChatMessage {
  return { id: `r${at}`, senderAddress: from, sent: new Date(at++), content: { reference, action, schema: "unicode", content: emoji }, contentType: REACTION };
}
function reply(id: string, from: string, reference: string, content: unknown): ChatMessage {
  return { id, senderAddress: from, sent: new Date(at++), content: { reference, contentType: TEXT, content }, contentType: REPLY };
}

describe("reactions", () => {
  it("counts each person once per emoji, the latest action winning, and marks ours", () => {
    const thread = [
      text("m1", ALICE, "hello"),
      reaction(ALICE, "m1", "👍"),
      reaction(BOB, "m1", "👍"),
      reaction(ME, "m1", "❤️"),
      reaction(ALICE, "m1", "👍"), // twice is still once
      reaction(BOB, "m1", "👍", "removed"),
      reaction(ME, "m2", "😂"),
      reaction(ME, "m2", "😂", "removed"),
    ];
    const summaries = reactionsByMessage(thread, ME);
    expect(summaries.get("m1")).toEqual([
      { emoji: "👍", count: 1, mine: false },
      { emoji: "❤️", count: 1, mine: true },
    ]);
    // All taken back: nothing to show.
    expect(summaries.has("m2")).toBe(false);
    expect(reactionToggle(summaries.get("m1"), "❤️")).toBe("removed");
    expect(reactionToggle(summaries.get("m1"), "👍")).toBe("added");
    expect(reactionToggle(undefined, "🎉")).toBe("added");
  });

  it("ignores what is not a readable reaction", () => {
    const broken: ChatMessage = { ...reaction(ALICE, "m1", "👍"), error: new Error("bad") };
    const odd: ChatMessage = { ...reaction(ALICE, "m1", "👍"), content: { reference: "m1", action: "liked", content: "👍" } };
    const foreign: ChatMessage = { ...reaction(ALICE, "m1", "👍"), contentType: { ...REACTION, authorityId: "example.org" } };
    expect([broken, odd, foreign].map(reactionOf)).toEqual([undefined, undefined, undefined]);
    expect(reactionsByMessage([broken, odd, foreign], ME).size).toBe(0);
  });

  it("does not make a conversation unread, though a text does", () => {
    const withBob = {
      peerAddress: BOB,
      topic: "/xmtp/0/m-bob/proto",
      createdAt: new Date(1),
      send: () => Promise.reject(new Error("not here")),
      messages: () => Promise.resolve([]),
    } satisfies ChatConversation;
    let state = reduce(initialState, { type: "connected", sessionId: 1, walletKind: "development", address: ME, apiUrl: "http://localhost:5555" });
    state = reduce(state, { type: "messageStreamed", sessionId: 1, message: { ...reaction(BOB, "m1", "👍"), conversation: withBob } });
    expect(state.session?.entries.get(withBob.topic)?.unread).toBe(0);
    state = reduce(state, { type: "messageStreamed", sessionId: 1, message: { ...text("m2", BOB, "and a word"), conversation: withBob } });
    expect(state.session?.entries.get(withBob.topic)?.unread).toBe(1);
  });

  it("words a reaction in the list's preview", () => {
    expect(messageText(reaction(ALICE, "m1", "👍"))).toBe("Reacted 👍");
    expect(messageText(reaction(ALICE, "m1", "👍", "removed"))).toBe("Took back 👍");
  });
});

describe("replies", () => {
  it("reads the reference and the text a reply wraps", () => {
    const answer = reply("m2", BOB, "m1", "yes!");
    expect(replyOf(answer)).toEqual({ reference: "m1", content: "yes!" });
    expect(plainText(answer)).toBe("yes!");
    expect(messageText(answer)).toBe("yes!");
    expect(replyOf(text("m3", BOB, "plain"))).toBeUndefined();
    // A reply wrapping something that is not text shows its fallback, or says it cannot.
    const wrapped = { ...reply("m4", BOB, "m1", { emoji: "?" }), contentFallback: "Replied to an earlier message" };
    expect(plainText(wrapped)).toBeUndefined();
    expect(messageText(wrapped)).toBe("Replied to an earlier message");
  });

  it("quotes the chosen message in the composer until the reply is written, or cancelled", () => {
    const withAlice = {
      peerAddress: ALICE,
      topic: "/xmtp/0/m-alice/proto",
      createdAt: new Date(1),
      send: () => Promise.reject(new Error("not here")),
      messages: () => Promise.resolve([]),
    } satisfies ChatConversation;
    const run = (state: AppState, ...events: Parameters<typeof reduce>[1][]) => events.reduce(reduce, state);
    let state = run(
      initialState,
      { type: "connected", sessionId: 1, walletKind: "development", address: ME, apiUrl: "http://localhost:5555" },
      { type: "conversationsListed", sessionId: 1, conversations: [withAlice] },
      { type: "replyStarted", sessionId: 1, topic: withAlice.topic, messageId: "m1" },
    );
    expect(state.session?.replyingTo).toEqual({ topic: withAlice.topic, messageId: "m1" });
    // Not for a conversation the session does not have.
    expect(reduce(state, { type: "replyStarted", sessionId: 1, topic: "/elsewhere", messageId: "m9" })).toBe(state);
    expect(run(state, { type: "replyCancelled", sessionId: 1 }).session?.replyingTo).toBeUndefined();
    state = reduce(state, { type: "outgoingQueued", sessionId: 1, topic: withAlice.topic, localId: "l1", text: "yes", written: new Date(9), replyTo: "m1" });
    expect(state.session?.replyingTo).toBeUndefined();
    expect(state.session?.entries.get(withAlice.topic)?.outbox?.[0]).toMatchObject({ text: "yes", replyTo: "m1", status: "sending" });
    // Its echo from the stream takes its place once, matched by text and the message it answers.
    state = reduce(state, { type: "messageStreamed", sessionId: 1, message: { ...reply("s1", ME, "m1", "yes"), conversation: withAlice } });
    expect(state.session?.entries.get(withAlice.topic)?.outbox).toEqual([]);
  });
});
