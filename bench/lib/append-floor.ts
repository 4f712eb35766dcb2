/**
 * The floor of a per-record append into shared memory: the least any `append(bytes)` that hands its
 * record to another thread through a SharedArrayBuffer ring does, with none of reactive-log's code. A
 * loop on the calling thread writes the record's 4-byte length word, copies its bytes behind it and
 * publishes the new head with one `Atomics.store`; no checks, no offsets, no writer reading the
 * ring, no wrap-around wait. Two placements of the bytes:
 *
 * - `ring`: the data 4 bytes after an 8-aligned length word, so at 4 mod 8, while a `Buffer.alloc` or
 *   pooled source lies at 0 mod 8: a record off its source's alignment (reactive-log's ring starts 4
 *   bytes into its buffer, src/ring/ring-memory.ts, so that a run of 100 B records is not);
 * - `aligned`: the data at the source's alignment mod 8 (an 8-byte length word).
 *
 * V8 copies into a SharedArrayBuffer eight bytes at a time only when source and target agree modulo
 * 8, and one byte at a time otherwise (src/ring/shared-copy.ts), which is the difference between the
 * two rows.
 */
const RING_BYTES = 32 * 1024 * 1024;

export type FloorPlacement = 'ring' | 'aligned';

/** Records a second of the bare append loop for `size`-byte records (median of `reps` passes of `records`). */
export function bareAppendRate(size: number, placement: FloorPlacement, records: number, reps: number): number[] {
  const sab = new SharedArrayBuffer(RING_BYTES);
  const ring = new Uint8Array(sab);
  const words = new DataView(sab);
  const head32 = new Int32Array(sab, 0, 1);
  const src = Buffer.alloc(size, 0x61);
  const lead = placement === 'ring' ? 4 : 8 + ((src.byteOffset & 7));
  // Each record takes a multiple of 8 bytes, so every record's length word is 8-aligned.
  const step = (lead + size + 7) & ~7;
  const first = 8; // past the published head word
  const rates: number[] = [];
  for (let r = 0; r < reps + 1; r++) {
    let head = first;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < records; i++) {
      if (head + step > RING_BYTES) head = first;
      words.setUint32(head, size, true);
      ring.set(src, head + lead);
      head += step;
      Atomics.store(head32, 0, head);
    }
    const ns = Number(process.hrtime.bigint() - t0);
    if (r > 0) rates.push((records / ns) * 1e9); // the first pass warms the loop up
  }
  return rates;
}
