// Length-prefixed framing over a libp2p stream: reassembly, the size limit, the read timeout and a truncated frame.
import { describe, expect, it } from "vitest";
import { streamPair } from "@libp2p/utils";
import { FramedStream, FrameError } from "./framedStream.js";
import { encodeLengthPrefix } from "./protobufWire.js";

describe("framed stream", () => {
  it("reassembles a frame split over many chunks and several frames in one chunk", async () => {
    const [a, b] = await streamPair();
    const reader = new FramedStream(b, 1 << 20);
    const big = Uint8Array.from({ length: 300_000 }, (_, i) => i % 251);
    const prefix = encodeLengthPrefix(big.length);
    const bytes = new Uint8Array([...prefix, ...big, 1, 0x61, 1, 0x62]);
    for (let offset = 0; offset < bytes.length; offset += 7_777) a.send(bytes.subarray(offset, offset + 7_777));
    expect(await reader.read(5_000)).toEqual(big);
    expect(await reader.read(5_000)).toEqual(Uint8Array.of(0x61));
    expect(await reader.read(5_000)).toEqual(Uint8Array.of(0x62));
    await a.close();
    expect(await reader.read(5_000)).toBeUndefined();
  });

  it("refuses a frame over the limit before receiving it", async () => {
    const [a, b] = await streamPair();
    const reader = new FramedStream(b, 1_000);
    a.send(encodeLengthPrefix(1_001));
    await expect(reader.read(5_000)).rejects.toThrow(FrameError);
  });

  it("gives up on a silent peer", async () => {
    const [, b] = await streamPair();
    await expect(new FramedStream(b, 1_000).read(50)).rejects.toThrow(/timed out/);
  });

  it("reports a stream that ends inside a frame", async () => {
    const [a, b] = await streamPair();
    const reader = new FramedStream(b, 1_000);
    a.send(Uint8Array.of(5, 1, 2));
    await a.close();
    await expect(reader.read(5_000)).rejects.toThrow(/middle of a frame/);
  });
});
