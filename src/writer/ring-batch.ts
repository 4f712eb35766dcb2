/**
 * The writer's reading of the ring: the next batch of whole records from the tail, as the ring slices
 * that hold them (one, or two when the batch wraps past the ring's end), ready to be framed and handed
 * to one writev straight from the ring. Nothing is copied.
 *
 * One per writer, reused for every batch (nothing is allocated per record or per batch but the
 * slices' views: the list of slices is an array reused per length, see ReusedArrays). Not
 * thread-safe: the writer thread alone reads the ring's records.
 */
import { FRAME_OVERHEAD_BYTES, RECORD_LENGTH_MASK } from '../format/frame.js';
import { internalError, type LogError } from '../errors.js';
import { BATCH_HEADER_BYTES, BATCH_MARKER, RECORD_HEADER_BYTES, WRAP_MARKER } from '../ring/layout.js';
import { ringBytesOf, ringSize, ringViewOf } from '../ring/ring-memory.js';
import { ReusedArrays } from '../storage/reused-arrays.js';

export class RingBatch {
  /** The ring slices holding the batch's records, in order (an array the next take() may reuse). */
  slices: Uint8Array[] = [];
  /** The frame the batch makes: its records and the frame's header and trailer. */
  frameBytes = 0;
  recordCount = 0;
  /** The ring counter (mod 2^32) after the batch: the tail once it is written. */
  tailAfter = 0;
  private readonly ring: Uint8Array;
  private readonly ringView: DataView;
  private readonly mask: number;
  /** The slices as they are found; `slices` gets them in an array of their number. */
  private readonly found: Uint8Array[] = [];
  private readonly lists = new ReusedArrays<Uint8Array>();

  constructor(ring: SharedArrayBuffer, private readonly maxBatchBytes: number) {
    this.ring = ringBytesOf(ring);
    this.ringView = ringViewOf(ring);
    this.mask = ringSize(ring) - 1;
  }

  /**
   * Takes whole records from ring counter `tail` toward the published `head`, up to maxBatchBytes (at
   * least one record; a batch from appendBatch whole, even past maxBatchBytes). A wrap marker before the first record ends the batch empty (`recordCount` 0):
   * its `tailAfter` gives the skipped bytes back. A record reaching past `head` is ERR_INTERNAL.
   */
  take(tail: number, head: number): this {
    const size = this.mask + 1;
    const found = this.found;
    let count = 0;
    let ringPosition = tail;
    let recordCount = 0;
    let bodyBytes = 0;
    let sliceStart = -1;
    let sliceBytes = 0;
    while (ringPosition !== head) {
      const idx = ringPosition & this.mask;
      const room = size - idx;
      let recordBytes = room < RECORD_HEADER_BYTES ? WRAP_MARKER : this.ringView.getUint32(idx, true);
      if (recordBytes === WRAP_MARKER) {
        // Skip to the ring's start: close the slice, never store the marker.
        if (sliceBytes > 0) found[count++] = this.ring.subarray(sliceStart, sliceStart + sliceBytes);
        sliceStart = -1;
        sliceBytes = 0;
        ringPosition = (ringPosition + room) >>> 0;
        if (recordCount === 0) break; // nothing framed yet: the skipped bytes go back first
        continue;
      }
      if (recordBytes === BATCH_MARKER) {
        // appendBatch's records, contiguous after the marker: all of them go into this frame, or none
        // (the frame ends before them), so that a crash keeps the batch whole or not at all.
        if (BATCH_HEADER_BYTES > ((head - ringPosition) >>> 0)) throw ringOverrun(ringPosition, BATCH_HEADER_BYTES, head);
        const records = this.ringView.getUint32(idx + 4, true);
        recordBytes = this.ringView.getUint32(idx + 8, true);
        if (records === 0 || BATCH_HEADER_BYTES + recordBytes > ((head - ringPosition) >>> 0)) {
          throw ringOverrun(ringPosition, BATCH_HEADER_BYTES + recordBytes, head);
        }
        if (recordCount > 0 && bodyBytes + recordBytes > this.maxBatchBytes) break;
        // The marker is never stored: close the slice before it, and start the batch's after it.
        if (sliceBytes > 0) found[count++] = this.ring.subarray(sliceStart, sliceStart + sliceBytes);
        sliceStart = idx + BATCH_HEADER_BYTES;
        sliceBytes = recordBytes;
        bodyBytes += recordBytes;
        recordCount += records;
        ringPosition = (ringPosition + BATCH_HEADER_BYTES + recordBytes) >>> 0;
        continue;
      }
      recordBytes = (recordBytes & RECORD_LENGTH_MASK) + RECORD_HEADER_BYTES; // bit 31 flags an attribute block
      // The producer publishes HEAD after whole records: a length reaching past it is a broken ring.
      if (recordBytes > ((head - ringPosition) >>> 0)) throw ringOverrun(ringPosition, recordBytes, head);
      if (recordCount > 0 && bodyBytes + recordBytes > this.maxBatchBytes) break;
      if (sliceStart >= 0 && sliceStart + sliceBytes !== idx) {
        // The previous record ended exactly at the ring's end: this one starts a new slice at index 0.
        found[count++] = this.ring.subarray(sliceStart, sliceStart + sliceBytes);
        sliceStart = -1;
        sliceBytes = 0;
      }
      if (sliceStart < 0) sliceStart = idx;
      sliceBytes += recordBytes;
      bodyBytes += recordBytes;
      recordCount++;
      ringPosition = (ringPosition + recordBytes) >>> 0;
    }
    if (sliceBytes > 0) found[count++] = this.ring.subarray(sliceStart, sliceStart + sliceBytes);
    const slices = this.lists.of(count);
    for (let i = 0; i < count; i++) slices[i] = found[i]!;
    this.slices = slices;
    this.frameBytes = bodyBytes + FRAME_OVERHEAD_BYTES;
    this.recordCount = recordCount;
    this.tailAfter = ringPosition;
    return this;
  }
}

/** A record in the ring whose length reaches past the published HEAD: only a bug can do that. */
function ringOverrun(ringPosition: number, recordBytes: number, head: number): LogError {
  return internalError(`a ring record of ${recordBytes} bytes at ring position ${ringPosition} reaches past the published head ${head}`);
}
