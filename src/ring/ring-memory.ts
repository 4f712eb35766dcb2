/**
 * The ring's memory: index 0 of the ring lies RING_LEAD bytes into its SharedArrayBuffer.
 *
 * A record in the ring is its 4-byte length word, then its bytes, packed with no padding (the writer
 * writes them to the segment as they are). V8 copies into shared memory eight bytes at a time only
 * when source and target agree modulo 8, and one byte at a time otherwise (src/ring/shared-copy.ts);
 * a record's source (a `Buffer`, a `Uint8Array`, `TextEncoder` output) usually starts at 0 mod 8.
 * With the ring starting 4 bytes into an 8-aligned buffer, a record starting at an index that is a
 * multiple of 8 has its bytes at 0 mod 8. That holds for every record of a run whose length is 4 mod
 * 8 (100 B records: 4 + 100 = 104 bytes, a whole number of 8-byte words); for other lengths the place
 * of a record's bytes turns with each record, whichever lead the ring has.
 *
 * Every view of a ring goes through these functions, so that all threads agree on the lead.
 */

export const RING_LEAD = 4;
/** The buffer is this much longer than the ring: the lead, and the rest of the last 8-byte word. */
const RING_PAD = 8;

/** A ring of `ringBytes` bytes (a power of two). */
export function newRing(ringBytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(ringBytes + RING_PAD);
}

/**
 * The ring's id, in the lead bytes before index 0 (no record is ever there): the opener stores a
 * random one here and in its control block (I64.RING_ID), so that Producer.attach can tell the ring of
 * a token's control block from another buffer of the same size. 0: none stored.
 */
export function ringIdOf(ring: SharedArrayBuffer): number {
  return Atomics.load(new Int32Array(ring, 0, 1), 0);
}

/** Stores the ring's id (see ringIdOf). */
export function setRingId(ring: SharedArrayBuffer, id: number): void {
  Atomics.store(new Int32Array(ring, 0, 1), 0, id);
}

/** The smallest and the largest ring (ProducerOptions.ringBytes). */
const MIN_RING_BYTES = 64 * 1024;
const MAX_RING_BYTES = 1024 * 1024 * 1024;

/**
 * Whether `buf` is a ring of this layout: a SharedArrayBuffer of ringBytes + 8 bytes, ringBytes a
 * power of two from 64 KiB to 1 GiB. A buffer of the previous layout (ringBytes long) is not.
 */
export function isRing(buf: unknown): buf is SharedArrayBuffer {
  if (!(buf instanceof SharedArrayBuffer)) return false;
  const size = ringSize(buf);
  return size >= MIN_RING_BYTES && size <= MAX_RING_BYTES && (size & (size - 1)) === 0;
}

/** The size of the ring `ring` holds (0 for a buffer too small to hold one). */
export function ringSize(ring: SharedArrayBuffer): number {
  return Math.max(0, ring.byteLength - RING_PAD);
}

/** The ring's bytes, index 0 first. */
export function ringBytesOf(ring: SharedArrayBuffer): Buffer {
  return Buffer.from(ring, RING_LEAD, ringSize(ring));
}

/** A DataView of the ring's bytes, index 0 first. */
export function ringViewOf(ring: SharedArrayBuffer): DataView {
  return new DataView(ring, RING_LEAD, ringSize(ring));
}
