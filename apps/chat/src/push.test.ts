// The words and shapes of push notifications (push.ts): what the service worker reads from a push and shows, and
// why push cannot be turned on, for each way it fails.
import { describe, expect, it } from "vitest";
import { initialState, reduce } from "./state.js";
import {
  openConversationPath,
  parseNotifyUrl,
  pushFailure,
  pushNotificationContent,
  pushPermissionRefused,
  pushUnsupported,
  readPushPayload,
} from "./push.js";

const TOPIC = "/xmtp/0/m-0123abcd/proto";
const NOTIFY = "http://127.0.0.1:8080";

describe("push payloads", () => {
  it("reads the topic and delivery id of an xmtp-notify delivery, with or without its message", () => {
    const body = { installationId: "i", deliveryId: "i:d", digest: "d", attempt: 1, sentAt: "x", envelope: { contentTopic: TOPIC, timestampNs: "5" } };
    expect(readPushPayload(JSON.stringify({ ...body, messageOmitted: true }))).toEqual({ topic: TOPIC, deliveryId: "i:d" });
    expect(readPushPayload(JSON.stringify({ ...body, envelope: { ...body.envelope, message: "AAEC" } }))).toEqual({ topic: TOPIC, deliveryId: "i:d" });
  });

  it("gives an empty payload for anything else, so the push is still shown", () => {
    for (const text of [undefined, "", "not json", "null", "42", JSON.stringify({ envelope: { contentTopic: 7 } })]) {
      expect(readPushPayload(text)).toEqual({ topic: undefined, deliveryId: undefined });
    }
  });

  it("names the peer the app wrote down for the topic, tagged by the topic; else says New message", () => {
    expect(pushNotificationContent({ topic: TOPIC }, { topic: TOPIC, peer: "bob.eth" })).toEqual({
      title: "bob.eth",
      body: "Open XMTP chat to read it.",
      tag: TOPIC,
    });
    expect(pushNotificationContent({ topic: TOPIC }, { topic: TOPIC, peer: "0x12ab…cdef", conversationId: "xmtp.org/work" }).body).toBe(
      "xmtp.org/work · Open XMTP chat to read it.",
    );
    expect(pushNotificationContent({ topic: TOPIC }, undefined)).toEqual({ title: "New message", body: "Open XMTP chat to read it.", tag: TOPIC });
    expect(pushNotificationContent({}, undefined)).toEqual({ title: "New message", body: "Open XMTP chat to read it." });
  });

  it("opens the app at the conversation of a clicked notification", () => {
    expect(openConversationPath(TOPIC)).toBe(`./?open=${encodeURIComponent(TOPIC)}`);
    expect(openConversationPath(undefined)).toBe("./");
  });
});

describe("why push cannot be had", () => {
  it("says what the browser lacks, and that the open tab still notifies", () => {
    expect(pushUnsupported(true)).toEqual({ reason: expect.stringMatching(/^This browser cannot receive push notifications .*still notified while this tab is open/), retry: false });
    expect(pushUnsupported(false).reason).toMatch(/secure page/);
    expect(pushPermissionRefused("denied")).toEqual({ reason: expect.stringMatching(/blocked for this site/), retry: true });
    expect(pushPermissionRefused("default").reason).toMatch(/not allowed/);
  });

  it("tells a push service that refuses from a user who blocked notifications", () => {
    const abort = Object.assign(new Error("Registration failed - permission denied"), { name: "AbortError" });
    const refused = pushFailure("subscribe", abort, NOTIFY);
    expect(refused.reason).toBe(
      "This browser's push service refused to subscribe (AbortError: Registration failed - permission denied), so this browser cannot receive push notifications. You are still notified while this tab is open in the background.",
    );
    expect(refused.retry).toBe(false);
    const notAllowed = Object.assign(new Error("Permission denied"), { name: "NotAllowedError" });
    expect(pushFailure("subscribe", notAllowed, NOTIFY).reason).toMatch(/blocked for this site/);
    expect(pushFailure("service-worker", new TypeError("bad MIME type"), NOTIFY).reason).toMatch(/service worker could not be installed \(TypeError: bad MIME type\)/);
  });

  it("says what the notification service did", () => {
    const unreachable = Object.assign(new Error("ECONNREFUSED"), { name: "NotifyApiError", code: "notify_unreachable" });
    expect(pushFailure("service", unreachable, NOTIFY)).toEqual({
      reason: `The notification service at ${NOTIFY} does not answer (NotifyApiError: ECONNREFUSED). Try again later.`,
      retry: true,
    });
    const noWebPush = Object.assign(new Error("GET /v1/webpush/vapid-public-key: 404 not_found"), { name: "NotifyApiError", code: "notify_refused", status: 404 });
    expect(pushFailure("service", noWebPush, NOTIFY)).toEqual({ reason: expect.stringMatching(/does not offer Web Push/), retry: false });
    const refused = Object.assign(new Error("400 invalid_argument"), { name: "NotifyApiError", code: "notify_refused", status: 400 });
    expect(pushFailure("service", refused, NOTIFY).reason).toMatch(/refused to register this browser \(NotifyApiError: 400 invalid_argument\)/);
  });
});

describe("the notification service URL", () => {
  it("takes http(s) URLs without trailing slashes, and empty for none", () => {
    expect(parseNotifyUrl(" http://127.0.0.1:8080/ ")).toBe(NOTIFY);
    expect(parseNotifyUrl("")).toBe("");
    expect(() => parseNotifyUrl("notify.example")).toThrow(/is not a URL/);
    expect(() => parseNotifyUrl("ws://notify.example")).toThrow(/http:\/\/ or https:\/\//);
  });
});

describe("the push state", () => {
  it("follows pushChanged, undefined without a service", () => {
    const on = reduce(initialState, { type: "pushChanged", push: { status: "on" } });
    expect(on.push).toEqual({ status: "on" });
    const unavailable = reduce(on, { type: "pushChanged", push: { status: "unavailable", reason: "no", retry: false } });
    expect(unavailable.push).toEqual({ status: "unavailable", reason: "no", retry: false });
    expect(reduce(unavailable, { type: "pushChanged", push: undefined }).push).toBeUndefined();
  });
});
