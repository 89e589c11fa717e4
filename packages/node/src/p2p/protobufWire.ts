// A minimal protobuf wire-format reader/writer, for where the node handles protobuf bytes itself rather than through
// @xmtp-ts/proto's generated code: the WakuMessage on the relay (proto/waku/message/v1/message.proto), and the sync
// protocol's envelope frames and its checks of what peers send (proto/xmtp-ts/sync/v1/sync.proto).

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

export class ProtobufDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtobufDecodeError";
  }
}

const textEncoder = new TextEncoder();
const strictTextDecoder = new TextDecoder("utf-8", { fatal: true });

/** Bytes an unsigned varint of this value takes. */
export function varintLength(value: number | bigint): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
    let length = 1;
    for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) length++;
    return length;
  }
  let length = 1;
  for (let v = BigInt(value); v >= 0x80n; v >>= 7n) length++;
  return length;
}

export class ProtobufWriter {
  private current: Uint8Array;
  private position = 0;

  /** `expectedLength`: the encoded size when known, so the buffer never grows. */
  constructor(expectedLength = 64) {
    this.current = new Uint8Array(expectedLength);
  }

  private ensure(extra: number): void {
    if (this.position + extra <= this.current.length) return;
    const size = Math.max(this.current.length * 2, this.position + extra);
    const grown = new Uint8Array(size);
    grown.set(this.current.subarray(0, this.position));
    this.current = grown;
  }

  varint(value: bigint | number): this {
    if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
      this.ensure(varintLength(value));
      let v = value;
      while (v >= 0x80) {
        this.current[this.position++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.current[this.position++] = v;
      return this;
    }
    let v = BigInt(value);
    if (v < 0n) throw new RangeError(`varint must not be negative: ${v}`);
    if (v < 1n << 64n) {
      // Two 32-bit halves as numbers: one BigInt split instead of a BigInt operation per 7 bits.
      return this.varint64(Number(v >> 32n), Number(v & 0xffffffffn));
    }
    this.ensure(varintLength(v));
    while (v >= 0x80n) {
      this.current[this.position++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.current[this.position++] = Number(v);
    return this;
  }

  /** The varint of hi * 2^32 + lo, both unsigned 32-bit numbers. */
  private varint64(hi: number, lo: number): this {
    this.ensure(10);
    while (hi > 0 || lo >= 0x80) {
      this.current[this.position++] = (lo & 0x7f) | 0x80;
      // Shift the 64-bit value right by 7: the low 7 bits of hi move into the top of lo.
      lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
      hi = hi >>> 7;
    }
    this.current[this.position++] = lo;
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  uint64Field(field: number, value: bigint | number): this {
    return this.tag(field, WIRE_VARINT).varint(value);
  }

  /** sint64 uses zigzag encoding so small negative numbers stay short. */
  sint64Field(field: number, value: bigint): this {
    const zigzag = value >= 0n ? value << 1n : ((-value) << 1n) - 1n;
    return this.tag(field, WIRE_VARINT).varint(zigzag);
  }

  boolField(field: number, value: boolean): this {
    return this.tag(field, WIRE_VARINT).varint(value ? 1 : 0);
  }

  bytesField(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED).varint(value.length);
    this.ensure(value.length);
    this.current.set(value, this.position);
    this.position += value.length;
    return this;
  }

  stringField(field: number, value: string): this {
    return this.bytesField(field, textEncoder.encode(value));
  }

  finish(): Uint8Array {
    return this.position === this.current.length ? this.current : this.current.slice(0, this.position);
  }
}

export interface ProtobufField {
  field: number;
  wireType: number;
  /** Set for varint fields. */
  varint?: bigint;
  /** Set for length-delimited fields (a view into the input, not a copy). */
  bytes?: Uint8Array;
}

export class ProtobufReader {
  private position = 0;

  constructor(private readonly buffer: Uint8Array) {}

  get done(): boolean {
    return this.position >= this.buffer.length;
  }

  varint(): bigint {
    // Accumulated as two numbers (bits 0-27 and 28-63), made a BigInt once: far cheaper than BigInt per byte.
    let low = 0;
    let high = 0;
    for (let i = 0; i < 10; i++) {
      if (this.position >= this.buffer.length) throw new ProtobufDecodeError("truncated varint");
      const byte = this.buffer[this.position++];
      if (i < 4) low += (byte & 0x7f) * 2 ** (7 * i);
      else high += (byte & 0x7f) * 2 ** (7 * (i - 4));
      if ((byte & 0x80) === 0) {
        // high holds bits 28 and up; at most 36 of them fit in 64 bits.
        if (high >= 2 ** 36) throw new ProtobufDecodeError("varint exceeds 64 bits");
        return high === 0 ? BigInt(low) : (BigInt(high) << 28n) + BigInt(low);
      }
    }
    throw new ProtobufDecodeError("varint longer than 10 bytes");
  }

  /**
   * A varint that must fit in a JavaScript number exactly (field keys, lengths). One longer than 8 bytes (past 2^56)
   * is too large for either: `tooLarge` says why, given the exact value.
   */
  private smallVarint(tooLarge: (value: bigint) => string): number {
    let result = 0;
    for (let i = 0; i < 8; i++) {
      if (this.position >= this.buffer.length) throw new ProtobufDecodeError("truncated varint");
      const byte = this.buffer[this.position++];
      result += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) return result;
    }
    // Decoded again in full, as a BigInt, for an exact figure in the error.
    this.position -= 8;
    throw new ProtobufDecodeError(tooLarge(this.varint()));
  }

  private take(length: number): Uint8Array {
    if (length > this.buffer.length - this.position) {
      throw new ProtobufDecodeError(`field length ${length} runs past the end of the message`);
    }
    const view = this.buffer.subarray(this.position, this.position + length);
    this.position += length;
    return view;
  }

  /** Reads the next field; unknown wire types are an error, known ones are returned (or skipped by the caller). */
  next(): ProtobufField {
    const key = this.smallVarint((value) => `field key ${value} is too large`);
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 0) throw new ProtobufDecodeError("field number 0 is not allowed");
    switch (wireType) {
      case WIRE_VARINT:
        return { field, wireType, varint: this.varint() };
      case WIRE_FIXED64:
        this.take(8);
        return { field, wireType };
      case WIRE_LENGTH_DELIMITED: {
        const length = this.smallVarint((value) => `field length ${value} runs past the end of the message`);
        return { field, wireType, bytes: this.take(length) };
      }
      case WIRE_FIXED32:
        this.take(4);
        return { field, wireType };
      default:
        throw new ProtobufDecodeError(`unsupported wire type ${wireType} for field ${field}`);
    }
  }
}

export function expectWireType(entry: ProtobufField, wireType: number, name: string): void {
  if (entry.wireType !== wireType) {
    throw new ProtobufDecodeError(`field ${name} (${entry.field}) has wire type ${entry.wireType}, expected ${wireType}`);
  }
}

export function decodeUtf8(bytes: Uint8Array, name: string): string {
  try {
    return strictTextDecoder.decode(bytes);
  } catch {
    throw new ProtobufDecodeError(`field ${name} is not valid UTF-8`);
  }
}

/**
 * A copy as a plain Uint8Array. Input often arrives as a Node.js Buffer, whose slice() is a view that would keep the
 * whole receive buffer alive and compare unequal to a Uint8Array.
 */
export function copyBytes(view: Uint8Array): Uint8Array {
  const copy = new Uint8Array(view.length);
  copy.set(view);
  return copy;
}

export function zigzagDecode(value: bigint): bigint {
  return (value & 1n) === 0n ? value >> 1n : -((value + 1n) >> 1n);
}

/** Unsigned LEB128 length prefix, as used by libp2p length-prefixed streams. */
export function encodeLengthPrefix(length: number): Uint8Array {
  return new ProtobufWriter().varint(length).finish();
}
