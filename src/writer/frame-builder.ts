/**
 * The frame the writer is about to append: its header and trailer, filled for a batch of ring slices,
 * with the CRC over the header and the body. Every frame built is checked (checkBuiltFrame: record
 * count, base offset, lengths) before it is written, the write half of the pair assertion; a failed
 * check is a bug, thrown as ERR_INTERNAL, and nothing of that frame reaches the file.
 *
 * One per writer; reused for every frame (nothing is allocated per frame).
 */
import { crc32 } from 'node:zlib';
import { FRAME_HEADER_BYTES, FRAME_TRAILER_BYTES, checkBuiltFrame, fillFrameHeader, headerCrc } from '../format/frame.js';
import { internalError } from '../errors.js';

/** The CRC field of a frame header: bytes 4-7 (src/format/frame.ts). */
const CRC_POSITION = 4;

export class FrameBuilder {
  readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  readonly trailer = new Uint8Array(FRAME_TRAILER_BYTES);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly trailerView = new DataView(this.trailer.buffer);

  /**
   * Fills `header` and `trailer` for a frame of `frameBytes` around the body `slices`, holding
   * `recordCount` records from `baseOffset`, written when the segment was durable up to `durablePosition`.
   */
  build(
    slices: readonly Uint8Array[], frameBytes: number, recordCount: number, baseOffset: number,
    timestampMs: number, durablePosition: number,
  ): void {
    fillFrameHeader(this.headerView, frameBytes, recordCount, baseOffset, timestampMs, durablePosition);
    let crc = headerCrc(this.header);
    for (const s of slices) crc = crc32(s, crc);
    this.headerView.setUint32(CRC_POSITION, crc, true);
    this.trailerView.setUint32(0, frameBytes, true);
    // A plain branch, not assertInvariant: this runs once per frame and must allocate nothing when it holds.
    const problem = checkBuiltFrame(this.header, slices, this.trailer, recordCount, baseOffset);
    if (problem !== null) throw internalError(`the writer built a bad frame at offset ${baseOffset}: ${problem}`, { offset: baseOffset });
  }
}
