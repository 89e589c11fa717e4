// What a client can hold before it is authenticated, over real sockets against an in-process node: connections per
// address, silent connections, header and body deadlines (408), and request-body bytes held per address and in total.
import { jsonBodyOf, openRawConnection, statusOf } from "./rawConnection.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIdentity, envelopeJson, nowNs, bytesOf, post, publish, startTestNode, storedOn, type TestNode } from "./helpers.js";

const TOPIC = "/xmtp/0/m-connection-limits/proto";
let node: TestNode;

beforeAll(async () => {
  node = await startTestNode({
    http: {
      maxConnectionsPerIp: 20,
      idleConnectionTimeoutMs: 500,
      headerTimeoutMs: 800,
      bodyTimeoutMs: 1_500,
      maxBodyBufferBytesPerIp: 1 << 20,
      maxBodyBufferBytes: 3 << 20,
      maxBodyBytes: 1 << 20,
    },
  });
});
afterAll(() => node.dispose());

const open = (localAddress?: string) => openRawConnection(node.url, localAddress);



describe("connections", () => {
  it("closes a connection that never sends a byte", async () => {
    const idle = await open();
    await idle.closed;
    expect(idle.received()).toBe("");
  });

  it("answers 408 with code 4 to a client that dribbles its headers past the deadline", async () => {
    const slow = await open();
    slow.socket.write("POST /message/v1/query HTTP/1.1\r\nHost: x\r\n");
    const dribble = setInterval(() => slow.received() === "" && slow.socket.write("X-Slow: 1\r\n"), 200);
    await slow.closed;
    clearInterval(dribble);
    expect(statusOf(slow.received())).toBe(408);
    expect(jsonBodyOf(slow.received())).toMatchObject({ code: 4, message: expect.stringMatching(/--header-timeout-ms/) });
  });

  it("answers 408 to a client that does not finish its body in time, and frees what it held", async () => {
    const partial = await open();
    partial.socket.write(
      "POST /message/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
    );
    await partial.closed;
    expect(statusOf(partial.received())).toBe(408);
    expect(jsonBodyOf(partial.received()).message).toMatch(/--body-timeout-ms/);
    const answer = await post(node.url, "/message/v1/query", { contentTopics: [TOPIC] });
    expect(answer.status).toBe(200);
  });

  it("refuses connections past --max-connections-per-ip with 429, counting each address apart", async () => {
    const held = await Promise.all(Array.from({ length: 20 }, () => open("127.0.0.3")));
    const extra = await open("127.0.0.3");
    extra.socket.write("POST /message/v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    await extra.closed;
    expect(statusOf(extra.received())).toBe(429);
    expect(extra.received()).toMatch(/retry-after: 1/i);
    expect(jsonBodyOf(extra.received())).toMatchObject({ code: 8, message: expect.stringMatching(/--max-connections-per-ip/) });
    // Another address is not affected.
    const other = await open("127.0.0.4");
    const body = JSON.stringify({ contentTopics: [TOPIC] });
    other.socket.write(`POST /message/v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(statusOf(other.received())).toBe(200);
    other.socket.destroy();
    for (const connection of held) connection.socket.destroy();
  });

  it("keeps a stream open past the body deadline: deadlines cover receiving the request only", async () => {
    const stream = await open();
    const body = JSON.stringify({ contentTopics: [TOPIC] });
    stream.socket.write(
      `POST /message/v1/subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(stream.socket.destroyed).toBe(false);
    expect(statusOf(stream.received())).toBe(200);
    stream.socket.destroy();
  });
});

describe("request bodies held in memory", () => {
  it("refuses a body that would take an address past --max-body-buffer-bytes-per-ip, with 429 and Retry-After", async () => {
    // Two declared 600 KiB bodies from one address: the second does not fit the 1 MiB budget.
    const first = await open("127.0.0.5");
    first.socket.write("POST /message/v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: 614400\r\n\r\n{");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await open("127.0.0.5");
    second.socket.write("POST /message/v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: 614400\r\n\r\n{");
    await second.closed;
    expect(statusOf(second.received())).toBe(429);
    expect(second.received()).toMatch(/retry-after: 1/i);
    expect(jsonBodyOf(second.received())).toMatchObject({ code: 8, message: expect.stringMatching(/--max-body-buffer-bytes-per-ip/) });
    // Once the first gives up, the address may send again.
    first.socket.destroy();
    await first.closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const third = await open("127.0.0.5");
    const body = JSON.stringify({ contentTopics: [TOPIC] });
    third.socket.write(`POST /message/v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(statusOf(third.received())).toBe(200);
    third.socket.destroy();
  });

  it("refuses bodies past --max-body-buffer-bytes across addresses, and serves honest publishes meanwhile", async () => {
    const holders = [];
    for (const address of ["127.0.0.6", "127.0.0.7", "127.0.0.8"]) {
      const holder = await open(address);
      holder.socket.write("POST /message/v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n{");
      holders.push(holder);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = await open("127.0.0.9");
    refused.socket.write("POST /message/v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n{");
    await refused.closed;
    expect(statusOf(refused.received())).toBe(429);
    expect(jsonBodyOf(refused.received()).message).toMatch(/--max-body-buffer-bytes\)/);
    // A small publish still fits what is left of the budget.
    const alice = await createIdentity();
    const envelope = envelopeJson(TOPIC, nowNs(), bytesOf("still served"));
    const published = await publish(node, [envelope], alice.token());
    expect(published.status).toBe(200);
    expect(await storedOn(node, TOPIC)).toHaveLength(1);
    for (const holder of holders) holder.socket.destroy();
  });
});
