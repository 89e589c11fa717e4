// `apiUrl` with a trailing slash: every call of a client (keys, contacts, invitations, messages, streams) reaches the
// node on the right paths. A recording proxy sits in front of the node, because our node would forgive `//message`.
import { createServer, request as httpRequest, type Server } from "node:http";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningNode } from "../../../../test/support/runningNode.js";
import { Client, type DecodedMessage } from "../../src/index.js";
import { node, ourClient, sdkClient, take } from "../support/peers.js";

let xmtpNode: RunningNode;
let proxy: Server;
let proxyUrl: string;
const paths: string[] = [];

beforeAll(async () => {
  xmtpNode = await node();
  const target = new URL(xmtpNode.url);
  proxy = createServer((incoming, outgoing) => {
    paths.push(incoming.url ?? "");
    const forwarded = httpRequest(
      { host: "127.0.0.1", port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        // A subscribe answers with headers long before any body: pass them on now, as the node did.
        outgoing.flushHeaders();
        answer.pipe(outgoing);
      },
    );
    forwarded.on("error", () => outgoing.destroy());
    outgoing.on("close", () => forwarded.destroy());
    incoming.pipe(forwarded);
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
});

afterAll(async () => {
  proxy?.closeAllConnections();
  proxy?.close();
  await xmtpNode?.dispose();
});

describe("apiUrl with a trailing slash", () => {
  it("works for create, canMessage, conversations, messages and streams, and never sends //", async () => {
    const peer = await sdkClient(xmtpNode.url);
    const ours = await ourClient(`${proxyUrl}/`);
    expect(await Client.canMessage(peer.address, { apiUrl: `${proxyUrl}/` })).toBe(true);
    expect(await ours.canMessage(peer.address)).toBe(true);

    const conversation = await ours.conversations.newConversation(peer.address);
    const stream = await conversation.streamMessages();
    await conversation.send("through a slash-ended apiUrl");
    const [theirs] = await peer.conversations.list();
    await theirs.send("and back");
    const streamed = await take<DecodedMessage>(stream, 2);
    expect(streamed.map((m) => m.content)).toEqual(["through a slash-ended apiUrl", "and back"]);
    await stream.return();
    expect((await conversation.messages()).map((m) => m.content)).toEqual(["through a slash-ended apiUrl", "and back"]);

    // The same wallet loads its keys from the network through the same URL.
    const again = await Client.create(ours.wallet, { apiUrl: `${proxyUrl}///` });
    expect(again.address).toBe(ours.address);

    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((path) => !path.startsWith("/message/v1/"))).toEqual([]);
    expect(new Set(paths)).toEqual(
      new Set(["/message/v1/query", "/message/v1/batch-query", "/message/v1/publish", "/message/v1/subscribe"]),
    );
  });
});
