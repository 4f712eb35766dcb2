/**
 * The demo's records: fixed-size byte strings that carry their own offset, so a reader can tell a
 * record that is out of order, missing, duplicated or damaged from a good one without keeping a copy.
 *
 * Layout of one record (RECORD_BYTES = 100):
 *    0  u64 LE  the record's offset
 *    8  ASCII   a fixed filler text (FILLER), the same in every record
 *   92  u64 BE  the record's offset again, in the other byte order, so a shifted window never matches
 */

export const RECORD_BYTES = 100;
const FILLER_AT = 8;
const TAIL_AT = RECORD_BYTES - 8;
const FILLER = Buffer.alloc(TAIL_AT - FILLER_AT, 'reactive-log demo record; its offset is stored at both ends. ', 'latin1');
const TWO_32 = 0x1_0000_0000;

/** A reusable record buffer: `set(offset)` rewrites it in place for the next append. */
export class RecordEncoder {
  readonly bytes = Buffer.alloc(RECORD_BYTES);

  constructor() {
    FILLER.copy(this.bytes, FILLER_AT);
  }

  /** Writes `offset` into the buffer and returns it (the producer copies it on append). */
  set(offset: number): Buffer {
    const lo = offset % TWO_32;
    const hi = Math.floor(offset / TWO_32);
    this.bytes.writeUInt32LE(lo, 0);
    this.bytes.writeUInt32LE(hi, 4);
    this.bytes.writeUInt32BE(hi, TAIL_AT);
    this.bytes.writeUInt32BE(lo, TAIL_AT + 4);
    return this.bytes;
  }
}

function u32le(d: Uint8Array, at: number): number {
  return (d[at]! | (d[at + 1]! << 8) | (d[at + 2]! << 16) | (d[at + 3]! << 24)) >>> 0;
}

function u32be(d: Uint8Array, at: number): number {
  return ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
}

/**
 * Checks that `data` is the demo record for `offset`. Returns null when it is, else what is wrong.
 * Allocation-free on the good path: it runs once per record the consumer sees.
 */
export function checkRecord(data: Uint8Array, offset: number): string | null {
  if (data.byteLength !== RECORD_BYTES) return `record is ${data.byteLength} bytes, expected ${RECORD_BYTES}`;
  const head = u32le(data, 4) * TWO_32 + u32le(data, 0);
  if (head !== offset) return `record content names offset ${head}`;
  const tail = u32be(data, TAIL_AT) * TWO_32 + u32be(data, TAIL_AT + 4);
  if (tail !== offset) return `record tail names offset ${tail}`;
  for (let i = 0; i < FILLER.length; i++) {
    if (data[FILLER_AT + i] !== FILLER[i]) return `record filler differs at byte ${FILLER_AT + i}`;
  }
  return null;
}
