// The baseline for `npm run bench`: a bare node:http server with no framework, storage, validation or auth. It
// runs as its own child process, like the node under test, so both are measured from the same load generator.
//
//   POST /message/v1/publish    reads the body, relays it as one line to every open subscribe stream, answers {}
//   POST /message/v1/query      reads the body, answers the canned JSON body from --canned-file (same size as the
//                               node's answer for the same page)
//   POST /message/v1/subscribe  reads the body, keeps the response open for relayed lines
import http from "node:http";
import { readFileSync } from "node:fs";

/**
 * @template {string | undefined} F
 * @param {string} name
 * @param {F} fallback
 * @returns {string | F}
 */
function flag(name, fallback) {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

const port = Number(flag("--port", "0"));
const host = flag("--host", "127.0.0.1");
const cannedFile = flag("--canned-file", undefined);
const canned = cannedFile ? readFileSync(cannedFile) : Buffer.from("{}");
const empty = Buffer.from("{}");
/** @type {Set<http.ServerResponse>} */
const subscribers = new Set();

/**
 * @param {http.IncomingMessage} request
 * @returns {Promise<Buffer>}
 */
function readBody(request) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/**
 * @param {http.ServerResponse} response
 * @param {Buffer} body
 */
function answer(response, body) {
  response.writeHead(200, { "content-type": "application/json", "content-length": body.length });
  response.end(body);
}

const server = http.createServer(async (request, response) => {
  const body = await readBody(request);
  switch (request.url) {
    case "/message/v1/publish": {
      if (subscribers.size > 0) {
        const line = Buffer.concat([body, Buffer.from("\n")]);
        for (const subscriber of subscribers) subscriber.write(line);
      }
      answer(response, empty);
      return;
    }
    case "/message/v1/query":
      answer(response, canned);
      return;
    case "/message/v1/subscribe":
      response.writeHead(200, { "content-type": "application/json" });
      response.flushHeaders();
      subscribers.add(response);
      response.on("close", () => subscribers.delete(response));
      return;
    default:
      response.writeHead(404, { "content-type": "application/json" });
      response.end(JSON.stringify({ code: 5, message: `no route ${request.url}`, details: [] }));
  }
});

server.keepAliveTimeout = 60_000;
server.listen(port, host, () => {
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
  console.log(JSON.stringify({ msg: "listening", url: `http://${host}:${address.port}` }));
});

function shutdown() {
  for (const subscriber of subscribers) subscriber.end();
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
