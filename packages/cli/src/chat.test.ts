import { describe, expect, it } from "vitest";
import { parseCommandLine } from "./args.js";
import { parseChatInput, rowsOf, widthOf } from "./chat.js";

describe("xmtp chat: the command line", () => {
  it("takes one peer, an address or a name", () => {
    const address = "0x" + "ab".repeat(20);
    expect(parseCommandLine(["chat", address], {}).command).toEqual({ name: "chat", peerAddress: "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB" });
    expect(parseCommandLine(["chat", "Bob.ETH"], {}).command).toEqual({ name: "chat", peerAddress: "bob.eth" });
  });

  it("refuses a missing or extra peer", () => {
    expect(() => parseCommandLine(["chat"], {})).toThrow(/chat: missing ADDRESS/);
    expect(() => parseCommandLine(["chat", "bob.eth", "hello"], {})).toThrow(/unexpected argument "hello"/);
  });
});

describe("xmtp chat: typed lines", () => {
  it("sends text as typed and knows its commands", () => {
    expect(parseChatInput("  hello  world ")).toEqual({ kind: "send", text: "  hello  world " });
    expect(parseChatInput("/quit")).toEqual({ kind: "quit" });
    expect(parseChatInput("/QUIT ")).toEqual({ kind: "quit" });
    expect(parseChatInput(" /quit")).toEqual({ kind: "send", text: " /quit" });
    expect(parseChatInput("/help")).toEqual({ kind: "help" });
    expect(parseChatInput("/shrug")).toEqual({ kind: "unknown", command: "/shrug" });
    expect(parseChatInput("//shrug")).toEqual({ kind: "send", text: "/shrug" });
    expect(parseChatInput("   ")).toEqual({ kind: "nothing" });
    expect(parseChatInput("")).toEqual({ kind: "nothing" });
  });

  it("counts the rows the input line takes on the terminal, the cursor after it included", () => {
    expect(rowsOf(10, 80)).toBe(1);
    expect(rowsOf(79, 80)).toBe(1);
    expect(rowsOf(80, 80)).toBe(2);
    expect(rowsOf(159, 80)).toBe(2);
    expect(rowsOf(161, 80)).toBe(3);
    expect(widthOf("> hello")).toBe(7);
    expect(widthOf("日本語")).toBe(6);
    expect(widthOf("gm 🌞")).toBe(5);
    expect(widthOf("e\u0301")).toBe(1);
  });
});
