// `xmtp broadcast`'s command line and --to file, in-process.
import { describe, expect, it } from "vitest";
import { parseCommandLine } from "../src/args.js";
import { parseRecipients } from "../src/broadcastRecipients.js";
import { CliError } from "../src/errors.js";

const A = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
const B = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";

describe("the --to file", () => {
  it("takes one address per line, ignores blank lines and # comments, and numbers the bad lines", () => {
    const text = `# header\n\n${A}\n  ${B.toLowerCase()}   # trailing comment\r\n0x1234\n${A.replace("aA", "Aa")}\nbob.eth\n`;
    const { addresses, invalid } = parseRecipients(text);
    expect(addresses).toEqual([A, B]);
    expect(invalid.map((l) => [l.line, l.text])).toEqual([
      [5, "0x1234"],
      [6, A.replace("aA", "Aa")],
      [7, "bob.eth"],
    ]);
    expect(invalid[1].problem).toContain("checksum");
  });
});

describe("xmtp broadcast arguments", () => {
  it("joins TEXT, derives the resume file from --to, and checks --concurrency", () => {
    const { command } = parseCommandLine(["broadcast", "--to", "list.txt", "gm", "all"], {});
    expect(command).toEqual({ name: "broadcast", to: "list.txt", text: "gm all", resume: "list.txt.broadcast.json", concurrency: 8 });
    const custom = parseCommandLine(["broadcast", "--to", "l.txt", "--resume", "s.json", "--concurrency", "3", "-"], {}).command;
    expect(custom).toMatchObject({ resume: "s.json", concurrency: 3, text: "-" });
    for (const bad of [["broadcast", "gm"], ["broadcast", "--to", "l.txt"], ["broadcast", "--to", "l.txt", "--concurrency", "0", "gm"], ["list", "--to", "l.txt"]]) {
      expect(() => parseCommandLine(bad, {}), bad.join(" ")).toThrow(CliError);
    }
  });
});
