// Refused requests are logged at info level (so an operator sees them with the default --log-level), rate-limited
// per kind so that a flood of refusals writes a bounded number of lines: a real node over HTTP, its JSON log lines
// captured, floods of bad tokens, denylisted wallets and bad input.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJsonLogger } from "../../src/log.js";
import { DEFAULT_REFUSAL_LINES_PER_WINDOW, DEFAULT_REFUSAL_WINDOW_MS } from "../../src/http/refusalLog.js";
import { bytesOf, createIdentity, envelopeJson, nowNs, post, publish, type Identity, type TestNode } from "../http/helpers.js";
import { ADMIN_TOKEN, admin, startSecureNode } from "./helpers.js";

type Line = Record<string, unknown> & { level: string; msg: string };

let node: TestNode;
let alice: Identity;
const lines: Line[] = [];

beforeAll(async () => {
  const logger = createJsonLogger({ level: "info", sink: { write: (line: string) => lines.push(JSON.parse(line) as Line) } });
  // The failed-token limit is raised so that the bad-token flood stays 401s (else it turns into 429s after 100).
  node = await startSecureNode(
    { adminToken: ADMIN_TOKEN, rateLimits: { authFailures: { capacity: 100_000, refillPerSecond: 100_000 } } },
    { logger },
  );
  alice = await createIdentity();
});
afterAll(() => node?.dispose());

/** Sends `count` requests, `concurrency` at a time; resolves to how long the flood took and the statuses seen. */
async function flood(count: number, send: (i: number) => Promise<{ status: number }>, concurrency = 25) {
  const started = performance.now();
  const statuses = new Map<number, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const { status } = await send(next++);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  return { durationMs: performance.now() - started, statuses };
}

/** Lines of one kind since `from`: refusals logged, and the sum of the counts in the summaries. */
function tally(kind: string, from: number) {
  const mine = lines.slice(from).filter((line) => line.kind === kind);
  const logged = mine.filter((line) => line.msg === "request refused");
  const summaries = mine.filter((line) => typeof line.suppressed === "number");
  const suppressed = summaries.reduce((sum, line) => sum + (line.suppressed as number), 0);
  return { lines: mine.length, logged, summaries, suppressed };
}

/** The most lines a flood of this length may write for one kind: per window its lines and one summary. */
function bound(durationMs: number): number {
  const windows = Math.ceil(durationMs / DEFAULT_REFUSAL_WINDOW_MS) + 1;
  return windows * (DEFAULT_REFUSAL_LINES_PER_WINDOW + 1);
}

/** Waits for every window still open to be summed up (their timers run at the window's end). */
const windowsEnd = () => new Promise((resolve) => setTimeout(resolve, DEFAULT_REFUSAL_WINDOW_MS + 200));

describe("refusals in the node's log", () => {
  it("logs a refusal at info with its kind, status, reason and request id", async () => {
    const from = lines.length;
    const res = await post(node.url, "/message/v1/publish", "{not json", { "x-request-id": "refusal-log-test-1" });
    expect(res.status).toBe(400);
    expect(lines.slice(from)).toContainEqual(
      expect.objectContaining({
        level: "info",
        msg: "request refused",
        kind: "bad_input",
        requestId: "refusal-log-test-1",
        path: "/message/v1/publish",
        status: 400,
        code: 3,
        client: "127.0.0.1",
        error: expect.stringMatching(/JSON/),
      }),
    );
    await windowsEnd();
  });

  it("writes a bounded number of lines for a flood of bad tokens, and counts every refusal", async () => {
    const from = lines.length;
    const envelope = envelopeJson(`/xmtp/0/m-refusal-flood/proto`, nowNs(), bytesOf("x"));
    const sent = 600;
    const { durationMs, statuses } = await flood(sent, () => publish(node, [envelope], "bm90LWEtdG9rZW4"));
    expect(Object.fromEntries(statuses)).toEqual({ 401: sent });
    await windowsEnd();
    const auth = tally("auth", from);
    expect(auth.lines).toBeLessThanOrEqual(bound(durationMs));
    expect(auth.lines).toBeLessThan(sent / 5);
    expect(auth.logged.length + auth.suppressed).toBe(sent);
    expect(auth.summaries.length).toBeGreaterThan(0);
    expect(auth.summaries[0]).toMatchObject({ level: "info", msg: `suppressed ${auth.summaries[0].suppressed} similar refusals` });
    expect(auth.logged[0]).toMatchObject({ level: "info", status: 401, code: 16 });
  });

  it("keeps kinds apart: denylist refusals are logged while bad input floods", async () => {
    expect((await admin(node, "POST", "/admin/v1/authz", { address: alice.address, permission: "deny" })).status).toBe(200);
    const from = lines.length;
    const sent = 400;
    const badInput = flood(sent, () => post(node.url, "/message/v1/query", { contentTopics: [] }));
    const denied = await publish(node, [envelopeJson(`/xmtp/0/contact-${alice.address}/proto`, nowNs(), bytesOf("c"))], alice.token());
    expect(denied.status).toBe(403);
    const { durationMs, statuses } = await badInput;
    expect(Object.fromEntries(statuses)).toEqual({ 400: sent });
    await windowsEnd();

    const deniedLines = tally("denied", from);
    expect(deniedLines.logged).toEqual([
      expect.objectContaining({ level: "info", status: 403, error: expect.stringContaining(`wallet ${alice.address} is on this node's denylist`) }),
    ]);
    const bad = tally("bad_input", from);
    expect(bad.lines).toBeLessThanOrEqual(bound(durationMs));
    expect(bad.logged.length + bad.suppressed).toBe(sent);
  });

  it("logs admin API refusals too (a wrong admin token)", async () => {
    const from = lines.length;
    expect((await admin(node, "GET", "/admin/v1/authz", undefined, "wrong-token-0123456789")).status).toBe(401);
    expect(lines.slice(from)).toContainEqual(
      expect.objectContaining({ level: "info", msg: "request refused", kind: "auth", path: "/admin/v1/authz", error: "admin API: wrong admin token" }),
    );
  });
});
