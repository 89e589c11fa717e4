// What one client can hold of the server before it has been authenticated: open connections per address, how long
// a connection may sit without sending a request, how long a request's headers and body may take. Without these a
// client could park thousands of silent sockets, or dribble headers forever.
import type { IncomingMessage, RequestListener, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { GrpcCode } from "../errors.js";
import { limitKeyOfAddress } from "../security/clientAddress.js";
import type { Logger } from "../log.js";
import { RefusalLog } from "./refusalLog.js";

export interface ConnectionLimitsOptions {
  /** Open connections per client address (IPv6 per /64); 0 = no cap. */
  maxConnectionsPerIp: number;
  /** A connection that has sent no byte this long after it opened is closed. */
  idleConnectionTimeoutMs: number;
  /** Time from a request's first byte to the end of its headers; then 408. */
  headerTimeoutMs: number;
  /** Time from a request's first byte to the end of its body; then 408. */
  bodyTimeoutMs: number;
  /**
   * Behind a trusted reverse proxy every connection comes from the proxy, so a per-address connection cap would
   * cap the proxy: it is not applied (the proxy limits connections; per-client limits use X-Forwarded-For).
   */
  trustProxy: boolean;
  logger: Logger;
  /** A refusal by one of these limits, for metrics: "connections_per_ip" or "request_timeout". */
  onRefused?: (limit: "connections_per_ip" | "request_timeout") => void;
  /** Where refusals are logged (info, rate-limited per kind); default a RefusalLog on `logger`. */
  refusalLog?: RefusalLog;
}

/** How long an over-cap connection may stay open to read its 429 before it is closed. */
const OVER_CAP_GRACE_MS = 2_000;
/** How often node:http checks header and body deadlines (its default, 30 s, would let deadlines slip that far). */
export const CONNECTION_CHECK_INTERVAL_MS = 1_000;

export class ConnectionLimits {
  private readonly openByAddress = new Map<string, number>();
  /** Connections accepted past the per-address cap: their requests are answered 429 and the connection closed. */
  private readonly overCap = new WeakSet<Socket>();

  private readonly refusals: RefusalLog;

  constructor(private readonly options: ConnectionLimitsOptions) {
    this.refusals = options.refusalLog ?? new RefusalLog({ logger: options.logger });
  }

  /** Open connections from one address key (for tests and diagnostics). */
  connectionsOf(addressKey: string): number {
    return this.openByAddress.get(addressKey) ?? 0;
  }

  /** Sets the server's deadlines and starts counting its connections. Call before listen(). */
  attach(server: Server): void {
    const { headerTimeoutMs, bodyTimeoutMs } = this.options;
    server.headersTimeout = headerTimeoutMs;
    // node:http measures both from the request's first byte; a request completes its headers before its body.
    server.requestTimeout = Math.max(headerTimeoutMs, bodyTimeoutMs);
    server.on("connection", (socket: Socket) => this.track(socket));
    server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => this.answerClientError(error, socket));
  }

  /** Wraps the request listener: requests on over-cap connections are refused before any work is done. */
  guard(listener: RequestListener): RequestListener {
    return (req, res) => {
      if (this.overCap.has(req.socket)) return this.refuseOverCap(req, res);
      listener(req, res);
    };
  }

  private track(socket: Socket): void {
    const key = limitKeyOfAddress(socket.remoteAddress ?? "unknown");
    const open = (this.openByAddress.get(key) ?? 0) + 1;
    this.openByAddress.set(key, open);
    const cap = this.options.maxConnectionsPerIp;
    const capped = cap > 0 && !this.options.trustProxy && open > cap;
    if (capped) this.overCap.add(socket);
    // A connection that says nothing is closed; a request once begun is under node:http's header/body deadlines.
    const idle = setTimeout(
      () => {
        if (socket.bytesRead === 0 || capped) socket.destroy();
      },
      capped ? OVER_CAP_GRACE_MS : this.options.idleConnectionTimeoutMs,
    );
    idle.unref();
    socket.once("close", () => {
      clearTimeout(idle);
      const left = (this.openByAddress.get(key) ?? 1) - 1;
      if (left > 0) this.openByAddress.set(key, left);
      else this.openByAddress.delete(key);
    });
  }

  private refuseOverCap(req: IncomingMessage, res: ServerResponse): void {
    this.options.onRefused?.("connections_per_ip");
    const address = req.socket.remoteAddress ?? "unknown";
    const message =
      `too many open connections from ${address} (at most ${this.options.maxConnectionsPerIp}, ` +
      `--max-connections-per-ip); close idle connections and retry`;
    this.refusals.refused("connections_per_ip", "HTTP request refused before routing", {
      status: 429,
      client: address,
      error: message,
    });
    const body = JSON.stringify({ code: GrpcCode.RESOURCE_EXHAUSTED, message, details: [] });
    res.writeHead(429, {
      "content-type": "application/json",
      "access-control-allow-origin": "*",
      "content-length": Buffer.byteLength(body),
      "retry-after": "1",
      connection: "close",
    });
    res.end(body);
  }

  /** Malformed or late requests never reach the request listener; node:http hands them here. */
  private answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
    if (!socket.writable || socket.bytesRead === 0) {
      // Nothing was asked (an idle connection reached the header deadline): there is no one to answer.
      socket.destroy();
      return;
    }
    let status = 400;
    let reason = "Bad Request";
    let message = `malformed HTTP request (${error.code ?? error.message})`;
    let code: GrpcCode = GrpcCode.INVALID_ARGUMENT;
    if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
      this.options.onRefused?.("request_timeout");
      status = 408;
      reason = "Request Timeout";
      code = GrpcCode.DEADLINE_EXCEEDED;
      message =
        `request not received in time: headers within ${this.options.headerTimeoutMs} ms (--header-timeout-ms), ` +
        `the whole request within ${Math.max(this.options.headerTimeoutMs, this.options.bodyTimeoutMs)} ms (--body-timeout-ms)`;
    } else if (error.code === "HPE_HEADER_OVERFLOW") {
      status = 431;
      reason = "Request Header Fields Too Large";
      message = "request headers are too large";
    }
    const body = JSON.stringify({ code, message, details: [] });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `connection: close\r\n\r\n${body}`,
    );
    // A client that stops reading must not keep the socket: the answer is small, give it a moment, then cut.
    setTimeout(() => socket.destroy(), OVER_CAP_GRACE_MS).unref();
    const kind = status === 408 ? "request_timeout" : "malformed_request";
    this.refusals.refused(kind, "HTTP request refused before routing", {
      status,
      client: socket.remoteAddress,
      error: error.code ?? error.message,
    });
  }
}
