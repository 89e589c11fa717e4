// The additional data that binds a sealed value to its place (sealing.ts): blind collection ‖ blind key ‖ order as
// 8 big-endian bytes with the sign bit flipped. Written in place: the Node.js crypto reuses one buffer for a whole
// batch (its setAAD copies at once), which spares an allocation per record when listing thousands.

export const BLIND_INDEX_BYTES = 32;
export const ADDITIONAL_DATA_BYTES = 2 * BLIND_INDEX_BYTES + 8;

/** Where a record lives: what its additional data binds it to. */
export interface RecordPlace {
  blindCollection: Uint8Array;
  blindKey: Uint8Array;
  order: bigint;
}

/** Writes the additional data of `place` into `target` (ADDITIONAL_DATA_BYTES long, `view` over it). */
export function writeAdditionalData(target: Uint8Array, view: DataView, place: RecordPlace): void {
  if (place.blindCollection.length !== BLIND_INDEX_BYTES || place.blindKey.length !== BLIND_INDEX_BYTES) {
    throw new RangeError("a blind index must be 32 bytes");
  }
  target.set(place.blindCollection, 0);
  target.set(place.blindKey, BLIND_INDEX_BYTES);
  // Two's complement with the sign bit flipped is order + 2^63 as unsigned: the same bytes as orderToBytes().
  view.setBigInt64(2 * BLIND_INDEX_BYTES, place.order);
  target[2 * BLIND_INDEX_BYTES] ^= 0x80;
}

export function additionalData(place: RecordPlace): Uint8Array {
  const target = new Uint8Array(ADDITIONAL_DATA_BYTES);
  writeAdditionalData(target, new DataView(target.buffer), place);
  return target;
}
