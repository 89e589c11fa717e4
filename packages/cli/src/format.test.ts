import { describe, expect, it } from "vitest";
import {
  conversationJson,
  formatConversationLine,
  formatLocalTime,
  formatMessageLine,
  messageJson,
  ProgressLine,
  progressBar,
  terminalSafe,
  type MessageView,
} from "./format.js";

const ME = "0x1111111111111111111111111111111111111111";
const PEER = "0x2222222222222222222222222222222222222222";

function message(overrides: Partial<MessageView> = {}): MessageView {
  return {
    id: "abc",
    conversationTopic: "/xmtp/0/m-00/proto",
    peerAddress: PEER,
    senderAddress: PEER,
    sent: new Date(2024, 4, 1, 9, 8, 7),
    text: "hello",
    contentType: "xmtp.org/text:1.0",
    ...overrides,
  };
}

describe("text output", () => {
  it("prints local time, the sender and the text", () => {
    expect(formatLocalTime(new Date(2024, 0, 2, 3, 4, 5))).toBe("2024-01-02 03:04:05");
    expect(formatMessageLine(message(), ME)).toBe(`2024-05-01 09:08:07  ${PEER}: hello`);
    expect(formatMessageLine(message({ senderAddress: ME }), ME)).toBe("2024-05-01 09:08:07  me: hello");
    expect(formatMessageLine(message({ senderAddress: ME }), ME, { showPeer: true })).toBe(
      `2024-05-01 09:08:07  me → ${PEER}: hello`,
    );
  });

  it("shows the peer's verified name instead of its address in messages, beside it in conversations", () => {
    expect(formatMessageLine(message({ peerName: "bob.eth" }), ME)).toBe("2024-05-01 09:08:07  bob.eth: hello");
    expect(formatMessageLine(message({ peerName: null }), ME)).toBe(`2024-05-01 09:08:07  ${PEER}: hello`);
    expect(formatMessageLine(message({ senderAddress: ME, peerName: "bob.eth" }), ME, { showPeer: true })).toBe(
      "2024-05-01 09:08:07  me → bob.eth: hello",
    );
    const conversation = { peerAddress: PEER, topic: "t", version: "v2", createdAt: new Date(0) };
    expect(formatConversationLine({ ...conversation, peerName: "bob.eth" }, ME)).toBe(`bob.eth (${PEER})  (no messages yet)`);
    expect(formatConversationLine({ ...conversation, peerName: null }, ME)).toBe(`${PEER}  (no messages yet)`);
    expect(conversationJson({ ...conversation, peerName: "bob.eth" })).toMatchObject({ peerName: "bob.eth" });
    expect(conversationJson({ ...conversation, peerName: null })).toMatchObject({ peerName: null });
    expect(conversationJson(conversation)).not.toHaveProperty("peerName");
    expect(messageJson(message())).not.toHaveProperty("peerName");
  });

  it("neutralises terminal escape sequences a peer could send", () => {
    const hostile = "\u001b]0;pwned\u0007\u001b[2J\u001b[31mred\u009b1m\r\u202eevil";
    const safe = terminalSafe(hostile);
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point of this test
    expect(safe).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(safe).toContain("\\u{1b}]0;pwned\\u{7}");
    expect(safe).toContain("red");
    expect(formatMessageLine(message({ text: hostile }), ME)).not.toContain("\u001b");
    expect(terminalSafe("line one\n\tline two")).toBe("line one\n\tline two");
  });

  it("says what a non-text or undecodable message was", () => {
    expect(formatMessageLine(message({ text: undefined, contentType: "xmtp.org/reaction:1.0", fallback: 'Reacted "👍"' }), ME)).toContain(
      '[xmtp.org/reaction:1.0] Reacted "👍"',
    );
    expect(formatMessageLine(message({ text: undefined, contentType: "acme.com/x:1.0" }), ME)).toContain(
      "[acme.com/x:1.0 content]",
    );
    expect(formatMessageLine(message({ error: "bad signature" }), ME)).toContain("[cannot decode message: bad signature]");
  });

  it("shows a conversation with its latest message, clipped to one line", () => {
    const long = "word ".repeat(30);
    const line = formatConversationLine(
      { peerAddress: PEER, topic: "t", version: "v2", createdAt: new Date(0), latestMessage: message({ text: long }) },
      ME,
    );
    expect(line.startsWith(`${PEER}  2024-05-01 09:08:07  word word`)).toBe(true);
    const mine = formatConversationLine(
      { peerAddress: PEER, topic: "t", version: "v2", createdAt: new Date(0), latestMessage: message({ senderAddress: ME }) },
      ME,
    );
    expect(mine).toBe(`${PEER}  2024-05-01 09:08:07  me: hello`);
    expect(line.endsWith("…")).toBe(true);
    expect(formatConversationLine({ peerAddress: PEER, topic: "t", version: "v2", createdAt: new Date(0) }, ME)).toBe(
      `${PEER}  (no messages yet)`,
    );
  });
});

describe("JSON output", () => {
  it("uses ISO times and null for missing content, keeping control characters escaped by JSON", () => {
    const json = messageJson(message({ text: "a\u001bb" }));
    expect(json).toMatchObject({ sent: message().sent.toISOString(), content: "a\u001bb", senderAddress: PEER });
    expect(JSON.stringify(json)).toContain("a\\u001bb");
    expect(messageJson(message({ text: undefined }))).toMatchObject({ content: null });
    expect(
      conversationJson({ peerAddress: PEER, topic: "t", version: "v1", createdAt: new Date(5) }),
    ).toEqual({ peerAddress: PEER, topic: "t", version: "v1", createdAt: new Date(5).toISOString(), conversationId: null, latestMessage: null });
  });
});

describe("ProgressLine", () => {
  it("redraws one line with a bar on a terminal, at most every 100 ms plus the final state", () => {
    const out: string[] = [];
    let now = 0;
    const line = new ProgressLine((t) => out.push(t), true, () => now);
    line.update("exporting", 0, 4, "0/4 topics");
    now = 50;
    line.update("exporting", 1, 4, "1/4 topics"); // too soon: skipped
    now = 200;
    line.update("exporting", 2, 4, "2/4 topics");
    line.update("exporting", 4, 4, "4/4 topics", true); // final: always drawn
    line.end();
    expect(out).toEqual([
      `\r${progressBar(0, 4)} exporting 0/4 topics\x1b[K`,
      `\r${progressBar(2, 4)} exporting 2/4 topics\x1b[K`,
      `\r${progressBar(4, 4)} exporting 4/4 topics\x1b[K`,
      "\n",
    ]);
    expect(progressBar(2, 4, 8)).toBe("[####----]  50%");
    expect(progressBar(0, 0, 4)).toBe("[####] 100%");
  });

  it("prints plain lines elsewhere, at most one a second plus the final one, and no escape codes", () => {
    const out: string[] = [];
    let now = 0;
    const line = new ProgressLine((t) => out.push(t), false, () => now);
    line.update("importing", 0, 10, "0/10 envelopes");
    now = 500;
    line.update("importing", 5, 10, "5/10 envelopes");
    line.update("importing", 10, 10, "10/10 envelopes", true);
    line.end();
    expect(out).toEqual(["importing: 0/10 envelopes\n", "importing: 10/10 envelopes\n"]);
  });
});
