// `xmtp export`, `xmtp import` and `xmtp read --archive`: the real binary, two real nodes with their own data dirs.
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNode, type RunningNode } from "../../../test/support/runningNode.js";
import { ExitCode } from "../src/errors.js";
import { assertCliBuilt, CliUser, closedPort, createSdkClient } from "./support.js";

let network1: RunningNode;
let network2: RunningNode;
const users: CliUser[] = [];

beforeAll(async () => {
  assertCliBuilt();
  [network1, network2] = await Promise.all([startNode(), startNode()]);
});

afterAll(async () => {
  for (const u of users) u.dispose();
  await Promise.all([network1?.dispose(), network2?.dispose()]);
});

describe("xmtp export / import / read --archive", () => {
  it("moves an inbox to another node and reads the archive offline", async () => {
    const alice = new CliUser(network1.url);
    users.push(alice);
    const { address } = await alice.json<{ address: string }>(["init"]);
    const bobWallet = Wallet.createRandom();
    const bob = await createSdkClient(network1.url, bobWallet);
    await alice.ok(["send", bobWallet.address, "hi bob, from the cli"]);
    const [bobSide] = await bob.conversations.list();
    await bobSide.send("hi alice");

    const file = join(alice.home, "inbox.xmtp-archive");
    const exported = await alice.run(["export", file]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(`of ${address} from ${network1.url}`);
    // Not a terminal: plain lines, the last one complete (contact, privatestore, invite, intro, preferences, m-).
    expect(exported.stderr.trim().split("\n").at(-1)).toMatch(/^exporting: 6\/6 topics, \d+ envelopes$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file).subarray(0, 8).toString()).toBe("XMTPINBX");

    // Offline: the node URL goes nowhere; the key file's wallet opens the archive.
    const offline = `http://127.0.0.1:${await closedPort()}`;
    const read = await alice.run(["read", "--archive", file, "--api-url", offline]);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).toContain(`== ${bobWallet.address}`);
    const lines = read.stdout.split("\n").filter((l) => l.includes(": "));
    expect(lines.map((l) => l.replace(/^\S+ \S+ {2}/, ""))).toEqual([`me: hi bob, from the cli`, `${bobWallet.address}: hi alice`]);
    const json = await alice.json<{ threads: { peerAddress: string; messages: { senderAddress: string; content: string }[] }[] }>([
      "read",
      "--archive",
      file,
      bobWallet.address,
      "--api-url",
      offline,
    ]);
    expect(json.threads[0].messages.map((m) => [m.senderAddress, m.content])).toEqual([
      [address, "hi bob, from the cli"],
      [bobWallet.address, "hi alice"],
    ]);

    const imported = await alice.json<{ published: number; alreadyPresent: number; refused: unknown[]; envelopes: number }>([
      "import",
      file,
      "--api-url",
      network2.url,
    ]);
    expect(imported.published).toBe(imported.envelopes);
    expect(imported).toMatchObject({ alreadyPresent: 0, refused: [] });
    const again = await alice.json<{ published: number; alreadyPresent: number }>(["import", file, "--api-url", network2.url]);
    expect(again).toMatchObject({ published: 0, alreadyPresent: imported.envelopes });

    // On network 2 the same identity reads the same conversation.
    const there = await alice.ok(["read", bobWallet.address, "--api-url", network2.url]);
    expect(there).toContain("me: hi bob, from the cli");
    expect(there).toContain(`${bobWallet.address}: hi alice`);

    // Someone else's identity, and an altered file, are refused with the archive exit code.
    const mallory = new CliUser(network2.url);
    users.push(mallory);
    await mallory.ok(["init"]);
    const foreign = await mallory.run(["read", "--archive", file]);
    expect(foreign.code).toBe(ExitCode.ARCHIVE);
    expect(foreign.stderr).toContain("archive_wrong_keys");
    const bytes = readFileSync(file);
    bytes[bytes.length - 5] ^= 1;
    const tampered = join(alice.home, "tampered.xmtp-archive");
    writeFileSync(tampered, bytes);
    const refused = await alice.run(["read", "--archive", tampered, "--api-url", offline]);
    expect(refused.code).toBe(ExitCode.ARCHIVE);
    expect(refused.stderr).toContain("archive_tampered");
    const missing = await alice.run(["import", join(alice.home, "nope"), "--api-url", network2.url]);
    expect(missing.code).toBe(ExitCode.USAGE);
  });
});
