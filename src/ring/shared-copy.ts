/**
 * Copies a record's bytes into the ring (shared memory) at memory speed whatever their alignment.
 *
 * V8 copies into a SharedArrayBuffer with relaxed atomic loads and stores (`base::Relaxed_Memcpy`):
 * eight bytes at a time when the source and the target lie at the same address modulo 8, one byte
 * at a time otherwise. Where a record lands in the ring depends on the records before it, so many
 * records would be copied byte by byte: about 0.35 ns a byte against 0.05 aligned (1 KiB: 347 against
 * 57 ns; docs/performance.md has the figures; `npm run bench:costs` prints the 100 B, 1 KiB and 64
 * KiB loops). A record of BOUNCE_MIN_BYTES or more whose
 * alignment differs from its place in the ring is copied first into a private buffer at the ring's
 * alignment (an ordinary memcpy) and from there into the ring (the word-by-word copy). Below it the
 * extra copy and the view it takes cost more than they save (about 53 ns against 42 at 100 B, even
 * at 128 B; 57 against 70 at 160 B).
 *
 * One per producer handle, on its thread; the private buffer is made on first use and holds at most
 * BOUNCE_CHUNK_BYTES + 8 bytes.
 */

/** Records shorter than this are copied straight into the ring, whatever their alignment. */
export const BOUNCE_MIN_BYTES = 160;
/** A longer record is copied through the private buffer in parts of this many bytes. */
export const BOUNCE_CHUNK_BYTES = 1024 * 1024;

export class SharedCopy {
  private bounce: Uint8Array | null = null;

  constructor(private readonly target: Uint8Array) {}

  /** The bytes the private buffer holds (0 before the first copy through it). */
  get privateBytes(): number {
    return this.bounce?.byteLength ?? 0;
  }

  /** Copies all of `src` into the target at index `at` (the caller has checked the room). */
  copy(src: Uint8Array, at: number): void {
    const n = src.byteLength;
    if (n < BOUNCE_MIN_BYTES || ((this.target.byteOffset + at - src.byteOffset) & 7) === 0) {
      this.target.set(src, at);
      return;
    }
    const lead = (this.target.byteOffset + at) & 7; // where a part starts in the private buffer: the target's alignment
    for (let done = 0; done < n; done += BOUNCE_CHUNK_BYTES) {
      const part = Math.min(BOUNCE_CHUNK_BYTES, n - done);
      const bounce = this.bounceFor(lead + part);
      bounce.set(part === n ? src : src.subarray(done, done + part), lead);
      this.target.set(bounce.subarray(lead, lead + part), at + done);
    }
  }

  private bounceFor(bytes: number): Uint8Array {
    if (this.bounce === null || this.bounce.byteLength < bytes) {
      this.bounce = new Uint8Array(Math.min(BOUNCE_CHUNK_BYTES + 8, Math.max(bytes, 2 * (this.bounce?.byteLength ?? 4096))));
    }
    return this.bounce;
  }
}
