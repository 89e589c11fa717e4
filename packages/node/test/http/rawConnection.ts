// A raw TCP connection to a node from a chosen loopback source address (each 127.x address is a client of its own
// for per-address limits), for tests that must send partial or malformed HTTP that fetch cannot.
import { connect, type Socket } from "node:net";

export interface RawConnection {
  socket: Socket;
  /** Everything the node sent so far, as latin1 text. */
  received: () => string;
  /** Resolves when the connection is closed, by either side. */
  closed: Promise<void>;
}

export function openRawConnection(nodeUrl: string, localAddress = "127.0.0.1"): Promise<RawConnection> {
  const { hostname, port } = new URL(nodeUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress });
    let data = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("error", () => {});
    const closed = new Promise<void>((done) => socket.once("close", () => done()));
    socket.once("connect", () => resolve({ socket, received: () => data, closed }));
    socket.once("error", reject);
  });
}

/** The status code of a raw HTTP/1.1 response. */
export const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
/** The JSON body of a raw HTTP/1.1 response with a Content-Length. */
export const jsonBodyOf = (response: string) => JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4));
