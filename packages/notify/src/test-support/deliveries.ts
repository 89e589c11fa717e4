// Assertions shared by the end-to-end tests: what a receiver must end with, and publishing through a real node.
import { expect } from "vitest";
import { envelopeDigest } from "../envelope.js";
import { call, type WebhookReceiver } from "./harness.js";
import type { PushSubscriptionJson, WebPushReceiver } from "./webPushReceiver.js";
import { freshEnvelope, type Publisher } from "./network.js";

export const E2E_SECRET = "end-to-end-secret-0123456789";

export interface RegisteredInstallation {
  id: string;
  accessKey: string;
  topics: string[];
}

export type Published = { contentTopic: string; message: string }[];

export async function registerWebhook(serviceUrl: string, receiver: WebhookReceiver, topics: string[]): Promise<RegisteredInstallation> {
  const answer = await call(serviceUrl, "POST", "/v1/installations", {
    body: { target: { kind: "webhook", url: receiver.url }, secret: E2E_SECRET, topics },
  });
  expect(answer.status).toBe(201);
  return { ...answer.body, topics };
}

/** Registers a Web Push subscription of the test push receiver, as a browser's app would. */
export async function registerWebPush(serviceUrl: string, subscription: PushSubscriptionJson, topics: string[]): Promise<RegisteredInstallation> {
  const answer = await call(serviceUrl, "POST", "/v1/installations", { body: { target: { kind: "webpush", ...subscription }, topics } });
  expect(answer.status).toBe(201);
  return { ...answer.body, topics };
}

/** As assertExactlyOnce, for the decrypted push messages: each expected delivery once, none refused. */
export async function assertPushedExactlyOnce(receiver: WebPushReceiver, expected: string[]): Promise<void> {
  await receiver.waitFor(expected.length, { timeoutMs: 30_000 });
  await new Promise((r) => setTimeout(r, 1_000));
  expect(receiver.rejected).toEqual([]);
  const documents = receiver.received().map((push) => JSON.parse(push.plaintext));
  expect(documents.map((d) => d.deliveryId as string).sort()).toEqual(expected);
  for (const d of documents) {
    expect(d.deliveryId).toBe(`${d.installationId}:${envelopeDigest(d.envelope.contentTopic, Buffer.from(d.envelope.message, "base64"))}`);
  }
}

/** One `installation:digest` per (installation, matching envelope published), sorted. */
export function expectedDeliveries(installations: RegisteredInstallation[], published: Published): string[] {
  const keys: string[] = [];
  for (const envelope of published) {
    const digest = envelopeDigest(envelope.contentTopic, Buffer.from(envelope.message, "base64"));
    for (const installation of installations) {
      if (installation.topics.includes(envelope.contentTopic)) keys.push(`${installation.id}:${digest}`);
    }
  }
  return keys.sort();
}

/** Waits for the expected deliveries, then a second more for any repeat, and checks: each once, each signed. */
export async function assertExactlyOnce(receiver: WebhookReceiver, expected: string[]): Promise<void> {
  await receiver.waitFor((r) => r.length >= expected.length, 30_000);
  await new Promise((r) => setTimeout(r, 1_000));
  expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
  expect(receiver.received.map((r) => r.body.deliveryId as string).sort()).toEqual(expected);
  for (const r of receiver.received) {
    const { contentTopic, message } = r.body.envelope;
    expect(r.body.deliveryId).toBe(`${r.body.installationId}:${envelopeDigest(contentTopic, Buffer.from(message, "base64"))}`);
  }
}

/** Publishes `count` fresh envelopes round-robin over the topics, one request each, a few milliseconds apart. */
export async function publishSome(publisher: Publisher, nodeUrl: string, count: number, topics: string[], into: Published): Promise<void> {
  for (let i = 0; i < count; i++) {
    const envelope = freshEnvelope(topics[i % topics.length]);
    await publisher.publish(nodeUrl, [envelope]);
    into.push(envelope);
    await new Promise((r) => setTimeout(r, 3));
  }
}

export async function waitLive(serviceUrl: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const health = await call(serviceUrl, "GET", "/healthz").catch(() => undefined);
    if (health && health.body.nodes.length > 0 && health.body.nodes.every((n: { live: boolean }) => n.live)) return;
    if (Date.now() > deadline) throw new Error("the service did not follow its nodes within 20 s");
    await new Promise((r) => setTimeout(r, 25));
  }
}
