// The snapshot byte layout (docs/storage.md §6), frozen: a change here breaks every snapshot already written.
import { describe, expect, it } from "vitest";
import {
  RecordReader,
  SNAPSHOT_VERSION_DATABASE,
  SnapshotError,
  decodeHeader,
  decodeTrailer,
  encodeHeader,
  encodeRecord,
  encodeTrailer,
  sha256,
} from "./snapshotFormat.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return (error as SnapshotError).code;
  }
  return "no error";
};

describe("snapshot format", () => {
  const header = encodeHeader({ sourceKind: "sqlite", createdAtMs: 1_700_000_000_000, headSequence: 2n, envelopeCount: 2, sourcePeerId: "12D3Koo" });
  const records = Buffer.concat([
    encodeRecord({ contentTopic: "/t", timestampNs: 5n, message: new Uint8Array([0xaa, 0xbb]) }),
    encodeRecord({ contentTopic: "/p", timestampNs: 1n << 63n, message: new Uint8Array([1]), postage: new Uint8Array([9, 8, 7]) }),
  ]);
  const trailer = encodeTrailer({ envelopeCount: 2, recordBytes: BigInt(records.length), bodyBytes: 10n, bodySha256: sha256(Buffer.from("body")), recordsSha256: sha256(records) });

  it("lays the header out as documented", () => {
    expect(header.length).toBe(39 + 7 + 32);
    expect(hex(header.subarray(0, 46))).toBe(
      "584d5450534e4150" + // "XMTPSNAP"
        "0001" + // version
        "004e" + // header length 78
        "01" + // brotli
        "01" + // sqlite
        "0000018bcfe56800" + // created at (ms)
        "0000000000000002" + // head sequence
        "0000000000000002" + // envelope count
        "07" + // peer id length
        Buffer.from("12D3Koo").toString("hex"),
    );
    expect(header.subarray(46)).toEqual(sha256(header.subarray(0, 46)));
    expect(decodeHeader(header, header.length + 200)).toEqual({
      header: { version: 1, compression: 1, sourceKind: "sqlite", createdAtMs: 1_700_000_000_000, headSequence: 2n, envelopeCount: 2, sourcePeerId: "12D3Koo" },
      length: 78,
    });
  });

  it("lays records out as documented", () => {
    expect(hex(records)).toBe(
      "00000017" + "00" + "0002" + "2f74" + "0000000000000005" + "00000002" + "aabb" + "00000000" +
        "00000019" + "01" + "0002" + "2f70" + "8000000000000000" + "00000001" + "01" + "00000003" + "090807",
    );
    const reader = new RecordReader();
    // Fed a byte at a time, the reader still cuts the same two envelopes.
    const envelopes = [...records].flatMap((byte) => reader.push(Buffer.from([byte])));
    reader.end();
    expect(envelopes).toEqual([
      { contentTopic: "/t", timestampNs: 5n, message: new Uint8Array([0xaa, 0xbb]) },
      { contentTopic: "/p", timestampNs: 1n << 63n, message: new Uint8Array([1]), postage: new Uint8Array([9, 8, 7]) },
    ]);
  });

  it("lays the trailer out as documented", () => {
    expect(trailer.length).toBe(96);
    expect(hex(trailer.subarray(0, 32))).toBe("584d54505441494c" + "0000000000000002" + "0000000000000038" + "000000000000000a");
    expect(decodeTrailer(trailer)).toMatchObject({ envelopeCount: 2, recordBytes: 56n, bodyBytes: 10n });
  });

  it("names what is wrong", () => {
    expect(codeOf(() => decodeHeader(Buffer.from("XMTP"), 4))).toBe("truncated");
    expect(codeOf(() => decodeHeader(Buffer.from("NOTASNAPSHOT-AT-ALL"), 19))).toBe("bad_magic");
    const v3 = Buffer.from(header);
    v3.writeUInt16BE(3, 8);
    expect(codeOf(() => decodeHeader(v3, 1000))).toBe("unsupported_version");
    // A page-level header must say "no compression": one saying brotli, its SHA-256 right, is of no known kind.
    const pages = encodeHeader({ sourceKind: "sqlite", createdAtMs: 1, headSequence: 3n, envelopeCount: 3 }, SNAPSHOT_VERSION_DATABASE);
    expect(decodeHeader(pages, 1000).header).toMatchObject({ version: 2, compression: 0, headSequence: 3n, envelopeCount: 3 });
    pages.writeUInt8(1, 12);
    sha256(pages.subarray(0, pages.length - 32)).copy(pages, pages.length - 32);
    expect(codeOf(() => decodeHeader(pages, 1000))).toBe("unsupported_version");
    const flipped = Buffer.from(header);
    flipped[25] ^= 1;
    expect(codeOf(() => decodeHeader(flipped, 1000))).toBe("checksum_mismatch");
    expect(codeOf(() => decodeHeader(header.subarray(0, 50), 50))).toBe("truncated");
    expect(codeOf(() => decodeTrailer(trailer.subarray(1)))).toBe("truncated");
    const reader = new RecordReader();
    reader.push(records.subarray(0, 10));
    expect(codeOf(() => reader.end())).toBe("truncated");
    expect(codeOf(() => new RecordReader().push(Buffer.from("ffffffff00", "hex")))).toBe("corrupt");
  });
});
