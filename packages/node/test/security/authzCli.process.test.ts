// `xmtp-node authz …` as a separate process editing the lists of a running node (the real binary, built by
// `npm run build`): the node picks the change up within seconds, without a restart.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBinary, startNode, type RunningNode } from "../../../../test/support/runningNode.js";
import { bytesOf, createIdentity, envelopeJson, nowNs, publish, type Identity } from "../http/helpers.js";

const run = promisify(execFile);

let node: RunningNode;
let alice: Identity;

beforeAll(async () => {
  node = await startNode({ args: ["--access-mode", "allowlist", "--authz-refresh-ms", "200"] });
  alice = await createIdentity();
});
afterAll(() => node?.dispose());

async function authz(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [nodeBinary, "authz", ...args, "--data-dir", node.dataDir]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

type PublishResult = Awaited<ReturnType<typeof publish>>;

/** Publishes alice's contact until the answer satisfies `wanted` (the node re-reads the lists every 200 ms). */
async function publishUntil(wanted: (res: PublishResult) => boolean): Promise<PublishResult> {
  let res!: PublishResult;
  // A generous 10 s before calling it a failure; a pass normally takes one or two polls.
  for (let attempt = 0; attempt < 100; attempt++) {
    res = await publish(node, [envelopeJson(`/xmtp/0/contact-${alice.address}/proto`, nowNs(), bytesOf(`b${attempt}`))], alice.token());
    if (wanted(res)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return res;
}

describe("xmtp-node authz on a running node", () => {
  it("allowlisting from the CLI lets the wallet register; removing it refuses it again", async () => {
    const refused = await publish(node, [envelopeJson(`/xmtp/0/contact-${alice.address}/proto`, nowNs(), bytesOf("x"))], alice.token());
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/not on its allowlist/);

    const allowed = await authz("allow", alice.address.toLowerCase());
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain(`allowed: ${alice.address}`);
    expect((await publishUntil((res) => res.status === 200)).status).toBe(200);

    const listed = await authz("list");
    expect(listed.stdout).toContain(`${alice.address}  allow`);

    expect((await authz("remove", alice.address)).code).toBe(0);
    const refusedAgain = await publishUntil((res) => res.status === 403);
    expect(refusedAgain.body.message).toMatch(/not on its allowlist/);
  });

  it("denying from the CLI refuses the wallet with a message saying so", async () => {
    expect((await authz("deny", alice.address)).code).toBe(0);
    const denied = await publishUntil((res) => /denylist/.test(res.body?.message ?? ""));
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ code: 7, message: expect.stringMatching(new RegExp(`wallet ${alice.address} is on this node's denylist`)) });
  });

  it("reports usage errors with exit code 2", async () => {
    const result = await authz("allow", "0xnot-an-address");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/invalid Ethereum address/);
  });
});
