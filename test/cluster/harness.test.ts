// The cluster harness (test/support/cluster.ts): three xmtp-node instances over one PostgreSQL schema behind HAProxy
// running deploy/haproxy/xmtp-node.cfg. The cluster tests need XMTP_TEST_POSTGRES_URL (see .ci/postgres.sh) and
// haproxy (.ci/haproxy.sh): skipped without the URL on a developer machine, failing under CI so a misconfigured CI
// cannot pass silently. The template's rendering is checked everywhere.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesOf, createIdentity, envelopeJson, nowNs, post, publish, type Identity } from "../../packages/node/test/http/helpers.js";
import { haproxyTemplatePath, renderHaproxyConfig, startCluster, type Cluster } from "../support/cluster.js";

const postgresUrl = process.env.XMTP_TEST_POSTGRES_URL;

describe("the HAProxy template", () => {
  it("keeps the documented file and changes only the bind port and the server lines", () => {
    const template = readFileSync(haproxyTemplatePath, "utf8");
    const { config, serverNames } = renderHaproxyConfig(template, 4100, [4101, 4102, 4103, 4104]);
    expect(serverNames).toEqual(["node1", "node2", "node3", "node4"]);
    const servers = config.split("\n").filter((line) => /^\s*server\s/.test(line));
    expect(servers.map((line) => line.trim())).toEqual(
      [4101, 4102, 4103, 4104].map((port, i) => `server node${i + 1} 127.0.0.1:${port} check inter 1s fall 2 rise 2`),
    );
    expect(config.split("\n").filter((line) => /^\s*bind\s/.test(line)).map((line) => line.trim())).toEqual([
      "bind 127.0.0.1:4100",
    ]);
    // Everything else is the template, line for line.
    const rest = (text: string) => text.split("\n").filter((line) => !/^\s*(server|bind)\s/.test(line));
    expect(rest(config)).toEqual(rest(template));
  });
});

if (!postgresUrl && process.env.CI) {
  describe("a cluster behind HAProxy", () => {
    it("needs XMTP_TEST_POSTGRES_URL in CI", () => {
      expect.fail("XMTP_TEST_POSTGRES_URL is not set: CI must provide a PostgreSQL database (see .ci/postgres.sh)");
    });
  });
}

describe.skipIf(!postgresUrl)("a cluster of nodes on one PostgreSQL schema behind HAProxy (XMTP_TEST_POSTGRES_URL)", () => {
  let cluster: Cluster;
  let alice: Identity;

  beforeAll(async () => {
    alice = await createIdentity();
    // A tiny failed-token allowance that does not refill during the test, for the X-Forwarded-For test; no other
    // test sends a bad token.
    cluster = await startCluster({
      postgresUrl: postgresUrl!,
      args: ["--auth-failure-burst", "3", "--auth-failure-rate", "0.001"],
    });
  });

  afterAll(async () => {
    await cluster?.dispose();
  });

  const newTopic = () => `/xmtp/0/test-${randomBytes(8).toString("hex")}/proto`;

  /** The messages stored on a topic, as one instance answers a query for it (oldest first). */
  async function messagesAt(url: string, topic: string): Promise<string[]> {
    const answer = await post(url, "/message/v1/query", {
      contentTopics: [topic],
      pagingInfo: { limit: 100, direction: "SORT_DIRECTION_ASCENDING" },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.envelopes.map((envelope: { message: string }) => Buffer.from(envelope.message, "base64").toString());
  }

  /** An instance's count of publishes it answered 200, from its own /metrics. */
  async function publishesAnswered(url: string): Promise<number> {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split("\n").find((l) => /^xmtp_http_requests_total\{endpoint="publish",code="200"\} /.test(l));
    return line ? Number(line.split(" ").pop()) : 0;
  }

  it("stores a publish made through the balancer where every instance reads it", async () => {
    const topic = newTopic();
    const answer = await publish(cluster, [envelopeJson(topic, nowNs(), bytesOf("hello cluster"))], alice.token());
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    for (const instance of cluster.instances) expect(await messagesAt(instance.url, topic)).toEqual(["hello cluster"]);
  });

  it("spreads requests over every instance", async () => {
    const before = await Promise.all(cluster.instances.map((instance) => publishesAnswered(instance.url)));
    const topic = newTopic();
    for (let i = 0; i < 3 * cluster.instances.length; i++) {
      const answer = await publish(cluster, [envelopeJson(topic, nowNs(), bytesOf(`spread ${i}`))], alice.token());
      expect(answer.status).toBe(200);
    }
    const after = await Promise.all(cluster.instances.map((instance) => publishesAnswered(instance.url)));
    const served = after.map((count, i) => count - before[i]);
    expect(served.reduce((a, b) => a + b)).toBe(3 * cluster.instances.length);
    for (const count of served) expect(count).toBeGreaterThan(0);
  });

  it("limits clients by the address HAProxy appends to X-Forwarded-For, not one the client wrote", async () => {
    const spoofed = "198.51.100.7";
    const topic = newTopic();
    const message = (text: string) => [envelopeJson(topic, nowNs(), bytesOf(text))];
    // Straight to each instance (no proxy), the header's last entry is taken as the client: spend that address's
    // failed-token allowance on every instance, until its publishes are refused with 429 naming it.
    for (const instance of cluster.instances) {
      for (let i = 0; i < 3; i++) {
        const refused = await post(instance.url, "/message/v1/publish", { envelopes: message(`bad ${i}`) }, {
          authorization: "Bearer not-a-token",
          "x-forwarded-for": spoofed,
        });
        expect(refused.status).toBe(401);
      }
      const limited = await post(instance.url, "/message/v1/publish", { envelopes: message("good") }, {
        authorization: `Bearer ${alice.token()}`,
        "x-forwarded-for": spoofed,
      });
      expect(limited.status).toBe(429);
      expect(limited.body.message).toContain(`address ${spoofed}`);
    }
    // Through the balancer the same header is only an earlier entry: HAProxy appends the real client (127.0.0.1)
    // last, so whichever instance answers, the spent allowance of the spoofed address does not apply.
    for (let i = 0; i < cluster.instances.length; i++) {
      const answer = await post(cluster.url, "/message/v1/publish", { envelopes: message(`through ${i}`) }, {
        authorization: `Bearer ${alice.token()}`,
        "x-forwarded-for": spoofed,
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    }
    // Headers that are not addresses at all change nothing either.
    const junk = await post(cluster.url, "/message/v1/publish", { envelopes: message("junk header") }, {
      authorization: `Bearer ${alice.token()}`,
      "x-forwarded-for": "unknown, not an address,, ",
    });
    expect(junk.status, JSON.stringify(junk.body)).toBe(200);
    expect(await messagesAt(cluster.instances[0].url, topic)).toEqual(["through 0", "through 1", "through 2", "junk header"]);
  });

  it("keeps every publish succeeding while an instance shuts down, and serves from it again after a restart", async () => {
    const topic = newTopic();
    const sent = Array.from({ length: 100 }, (_, i) => `failover ${i}`);
    const statuses: number[] = [];
    let stopping: Promise<void> | undefined;
    for (const [i, text] of sent.entries()) {
      // Midway, SIGTERM the second instance without waiting: the next publishes race its shutdown and the health
      // checks that take it out of the balancer.
      if (i === 50) stopping = cluster.stopInstance(1);
      const answer = await publish(cluster, [envelopeJson(topic, nowNs(), bytesOf(text))], alice.token());
      statuses.push(answer.status);
    }
    await stopping;
    expect(statuses).toEqual(sent.map(() => 200));
    expect(cluster.instances[1].process.exitCode).toBe(0);
    // Each publish was stored once, whichever instance (or retry) stored it.
    for (const index of [0, 2]) expect(await messagesAt(cluster.instances[index].url, topic)).toEqual(sent);

    const restarted = await cluster.restartInstance(1);
    expect(await messagesAt(restarted.url, topic)).toEqual(sent);
    // A fresh process counts from zero: publishes through the balancer reach it again.
    expect(await publishesAnswered(restarted.url)).toBe(0);
    const again = newTopic();
    for (let i = 0; i < 2 * cluster.instances.length; i++) {
      const answer = await publish(cluster, [envelopeJson(again, nowNs(), bytesOf(`again ${i}`))], alice.token());
      expect(answer.status).toBe(200);
    }
    expect(await publishesAnswered(restarted.url)).toBeGreaterThan(0);
    expect(await messagesAt(restarted.url, again)).toHaveLength(2 * cluster.instances.length);
  });

  it("retries a publish on another instance when the one it was sent to dies before answering", async () => {
    const topic = newTopic();
    const sent = cluster.instances.map((_, i) => `crash ${i}`);
    const logMark = cluster.haproxy.logs.length;
    // Freeze the third instance: HAProxy still counts it UP (its health checks only time out), and round robin
    // hands it one of these concurrent publishes, which then waits for an answer that never comes.
    cluster.instances[2].process.kill("SIGSTOP");
    let answered = 0;
    const answers = Promise.all(
      sent.map((text) =>
        publish(cluster, [envelopeJson(topic, nowNs(), bytesOf(text))], alice.token()).finally(() => answered++),
      ),
    );
    const deadline = Date.now() + 10_000;
    while (answered < sent.length - 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    // Then it crashes with the request unanswered: HAProxy sees the connection close with no response.
    await cluster.killInstance(2);
    const statuses = (await answers).map((answer) => answer.status);
    expect(statuses).toEqual(sent.map(() => 200));
    expect((await messagesAt(cluster.instances[0].url, topic)).sort()).toEqual(sent);
    // HAProxy's access log: exactly one of these publishes needed a retry, redispatched to another server ("+1").
    const publishes = cluster.haproxy.logs.slice(logMark).filter((line) => line.includes('"POST /message/v1/publish '));
    const retries = publishes.map((line) => / \S{4} \d+\/\d+\/\d+\/\d+\/(\+?\d+) /.exec(line)?.[1]);
    expect(retries.sort()).toEqual(["+1", "0", "0"]);

    await cluster.restartInstance(2);
    expect((await messagesAt(cluster.instances[2].url, topic)).sort()).toEqual(sent);
  });
});
