/**
 * A plain Uint8Array view (not a copy) of a Buffer a database driver returned: envelopes handed out by the stores
 * hold plain Uint8Arrays whatever the driver produces, so they compare equal to the ones they were stored from.
 */
export function asUint8Array(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
