/**
 * Where a LogReader stands in the segment it has open, and the records it hands out from there: the
 * frames read from the file (segment-file.ts), each checked, or trusted from this thread's
 * verified-frame cache (verified-cache.ts) or on the word of this process's writer, the records of the frame being handed out, a seek inside
 * the segment by its sparse index, and the hint and jump pool lanes pass on. LogReader (log-reader.ts)
 * holds one and decides the order of segments, how far to read, and what a frame that is not whole or
 * not valid means (its FrameJudge). Only this class moves its position; its holder reads it through
 * getters and moves it through the methods.
 *
 * The trust rule of the cache (the writer's: SegmentFile.checkFrame): a cached frame is trusted only for bytes read before a stamp of the file
 * that equals the stamp the frame was verified under (`confirmed`); a frame checked here is noted under
 * the stamp taken before its bytes were read (the chunk's `stamp`), if that stamp is settled.
 *
 * Units: `...Offset` is a record offset, `...Position` a byte position in the segment file (or, for
 * `recordPosition`, in the chunk).
 */
import { LogError } from '../errors.js';
import {
  FRAME_HEADER_BYTES, RECORD_LENGTH_BYTES, RECORD_LENGTH_MASK, SEGMENT_HEADER_BYTES, decodeFrameHeader,
  u32At, type FrameHeader,
} from '../format/frame.js';
import type { FileIO } from '../storage/file-io.js';
import type { Message } from '../types.js';
import { decodeAttributes } from '../format/record.js';
import { entryFrame, floorEntry } from '../segment/offset-index.js';
import type { SegmentEntry } from './verified-cache.js';
import { segmentName } from '../segment/segment-files.js';
import { EMPTY_CHUNK, SEEK_READ_BYTES, SegmentFile, plainChunk, type Chunk } from './segment-file.js';
import { FrameWindow } from './frame-window.js';
import { RecordBytes } from './record-bytes.js';
import type { FrameJudge, ReaderHint } from './reader-contracts.js';

const hintHeader = Buffer.alloc(FRAME_HEADER_BYTES);
/** Index entries a seek tries, from the greatest at or below its target down, before it scans from the segment's start. */
const MAX_ENTRY_TRIES = 3;

export class SegmentReader {
  /** The open segment file (its holder sets only its dirIdentity and writer). */
  readonly file: SegmentFile;
  // Where the reader stands (described at the getters below).
  #baseOffset = -1;
  #framePosition = 0;
  #nextOffset = 0;
  #skipBelowOffset = 0;
  #frameLeft = 0;
  /** File position and first offset of the frame loaded last. */
  private loadedFramePosition = 0;
  private loadedFrameOffset = 0;
  // The bytes read last, and the frame being handed out from them.
  private chunk: Chunk = EMPTY_CHUNK;
  private recordPosition = 0; // position in chunk.buf of the next record's length field
  private frameTimestampMs = 0;
  /** Open when the current frame is a verified one read only from a record near the seek target. */
  private readonly window: FrameWindow;

  constructor(io: FileIO, dir: string, private readonly judge: FrameJudge) {
    this.file = new SegmentFile(io, dir);
    this.window = new FrameWindow(this.file);
  }

  /** The open segment file's descriptor, or -1 when none is open. */
  get fd(): number { return this.file.fd; }
  /** The open segment file's path. */
  get path(): string { return this.file.path; }
  /** The base offset of the segment the reader stands in. */
  get baseOffset(): number { return this.#baseOffset; }
  /** File position of the next frame. */
  get framePosition(): number { return this.#framePosition; }
  /** Offset of the next record to hand out. */
  get nextOffset(): number { return this.#nextOffset; }
  /** Records below this offset are passed over (after a seek into a frame). */
  get skipBelowOffset(): number { return this.#skipBelowOffset; }
  /** Records left in the current frame. */
  get frameLeft(): number { return this.#frameLeft; }
  /** The file size the last refill saw. */
  get refillSize(): number { return this.file.refillSize; }
  /** The last cache entry a stamp taken after a read confirmed since the segment was opened. */
  get confirmedEntry(): SegmentEntry | null { return this.file.confirmedEntry; }

  /**
   * Opens segment `baseOffset`'s file (closing the one open), header unread, and returns its name.
   * ERR_POSITION_EXPIRED when it is gone.
   */
  openFile(baseOffset: number): string {
    this.close();
    return this.file.open(baseOffset);
  }

  /** Segment `baseOffset` is open at `fd` (its header checked): stands before its first frame. */
  start(baseOffset: number): void {
    this.#baseOffset = baseOffset;
    this.#framePosition = SEGMENT_HEADER_BYTES;
    this.#nextOffset = baseOffset;
    this.#frameLeft = 0;
    this.file.forgetSize();
    this.forgetChunk();
  }

  /** Closes the open file, if any. */
  close(): void {
    this.file.close();
    this.#frameLeft = 0;
    this.window.close();
  }

  /** Passes over the records below `offset` as they are read (a skip forward without a seek). */
  passOverBelow(offset: number): void {
    this.#skipBelowOffset = offset;
  }

  /**
   * Closes the file and stands at `nextOffset`, with no segment open: the holder opens one when it
   * exists (an empty log, or a segment whose header is not whole yet). Records below `skipBelowOffset`
   * are passed over.
   */
  standClosed(nextOffset: number, skipBelowOffset: number): void {
    this.close();
    this.#nextOffset = nextOffset;
    this.#skipBelowOffset = skipBelowOffset;
  }

  /**
   * Where this reader stands: the frame holding its next record, or the next frame. Exact when it
   * is taken; whoever uses it checks it again (the frame header found there must name `base`).
   */
  hint(): ReaderHint | null {
    if (this.file.fd < 0) return null;
    return this.#frameLeft > 0
      ? { seg: this.#baseOffset, pos: this.loadedFramePosition, base: this.loadedFrameOffset }
      : { seg: this.#baseOffset, pos: this.#framePosition, base: this.#nextOffset };
  }

  /**
   * In the open segment `h.seg`: moves to `offset` from hint `h` at or below it, once the frame header
   * at the hint's position names the hint's offset. False: not usable (the reader stays where it was).
   */
  jumpTo(h: ReaderHint, offset: number): boolean {
    if (this.file.readInto(hintHeader, FRAME_HEADER_BYTES, h.pos) < FRAME_HEADER_BYTES) return false;
    const fh = decodeFrameHeader(hintHeader, 0);
    if (typeof fh === 'string' || fh.baseOffset !== h.base) return false;
    // The frame is checked as usual when it is loaded.
    this.#framePosition = h.pos;
    this.#nextOffset = h.base;
    this.#frameLeft = 0;
    this.window.close();
    this.#skipBelowOffset = offset;
    return true;
  }

  /** Passes over the rest of the loaded frame without handing its records out (a walk to the end). */
  skipFrame(): void {
    this.#nextOffset += this.#frameLeft;
    this.#frameLeft = 0;
  }

  /** Next record of the open segment below `limit`, or null at its (current) end, or when the next record is at `limit` (frameLeft > 0 then). */
  nextRecord(limit: number): Message | null {
    return this.nextInFrame(limit) ?? this.nextRecordSlowly(limit);
  }

  /**
   * The common case of nextRecord() in a few bytecodes, so that V8 inlines it into the caller's loop:
   * a record of the loaded frame without attributes, below `limit`, none to pass over, the frame read
   * whole. Null in every other case (nothing read, nothing moved): nextRecord() decides those. No I/O.
   */
  private nextInFrame(limit: number): Message | null {
    if (this.#frameLeft === 0 || this.#nextOffset >= limit || this.#nextOffset < this.#skipBelowOffset || this.window.open) return null;
    const word = u32At(this.chunk.buf, this.recordPosition);
    return word > RECORD_LENGTH_MASK ? null : this.plainRecord(this.recordPosition + RECORD_LENGTH_BYTES, word);
  }

  /** Hands out the record (no attributes) whose `word` bytes start at `dataPosition` of the chunk. */
  private plainRecord(dataPosition: number, word: number): Message {
    const c = this.chunk;
    this.recordPosition = dataPosition + word;
    this.#frameLeft--;
    const data = new RecordBytes(c.arrayBuffer, c.start + dataPosition, word);
    return { offset: this.#nextOffset++, data, timestamp: this.frameTimestampMs, key: null, headers: null };
  }

  /** nextRecord() past the common case: loads the next frame, passes over records below a seek target, reads a window, decodes attributes. */
  private nextRecordSlowly(limit: number): Message | null {
    if (this.#frameLeft === 0 && !this.loadFrame()) return null;
    // A seek target inside this frame: pass over the records before it by their lengths alone.
    while (this.#nextOffset < this.#skipBelowOffset && this.#frameLeft > 0) {
      if (this.window.open && !this.windowHolds(RECORD_LENGTH_BYTES)) return this.nextRecord(limit);
      this.recordPosition += RECORD_LENGTH_BYTES + (u32At(this.chunk.buf, this.recordPosition) & RECORD_LENGTH_MASK);
      this.#frameLeft--;
      this.#nextOffset++;
    }
    if (this.#frameLeft === 0) return this.nextRecord(limit);
    // Checked again after passing over: a seek target at or past the limit is not handed out (it was,
    // when the frame holding it started below the limit: a durable-visibility consumer opened at the
    // durable end got one record that was not durable yet).
    if (this.#nextOffset >= limit) return null;
    if (this.window.open) {
      if (!this.windowHolds(RECORD_LENGTH_BYTES)) return this.nextRecord(limit);
      if (!this.windowHolds(RECORD_LENGTH_BYTES + (u32At(this.chunk.buf, this.recordPosition) & RECORD_LENGTH_MASK))) return this.nextRecord(limit);
    }
    const word = u32At(this.chunk.buf, this.recordPosition);
    const dataPosition = this.recordPosition + RECORD_LENGTH_BYTES;
    return word > RECORD_LENGTH_MASK ? this.recordWithAttributes(word & RECORD_LENGTH_MASK, dataPosition) : this.plainRecord(dataPosition, word);
  }

  /** The next record when it carries an attribute block (format 2): key, headers, dedup key, then data. */
  private recordWithAttributes(payloadBytes: number, payloadPosition: number): Message {
    const end = payloadPosition + payloadBytes;
    const a = decodeAttributes(this.chunk.buf, payloadPosition, end);
    // The frame passed its checks, or its writer's before writing: a block that does not decode was written so, never torn.
    if (typeof a === 'string') throw LogError.corrupt(segmentName(this.#baseOffset), this.chunk.position + payloadPosition, `record ${this.#nextOffset}: ${a}`);
    this.recordPosition = end;
    this.#frameLeft--;
    return { offset: this.#nextOffset++, data: new RecordBytes(this.chunk.arrayBuffer, this.chunk.start + a.dataStart, end - a.dataStart), timestamp: this.frameTimestampMs, key: a.key, headers: a.headers };
  }

  /** Reads and checks the frame at `framePosition`. False: there is none (yet), or it was not whole at the reader's end. */
  loadFrame(): boolean {
    this.window.close();
    for (;;) {
      if (this.judge.pastEnd(this.#framePosition)) return this.judge.atEnd(); // none of it was in the file at the reader's end
      let at = this.#framePosition - this.chunk.position;
      if (at < 0 || at + FRAME_HEADER_BYTES > this.chunk.buf.byteLength) {
        if (!this.readVerifiedHeader() && !this.refill(FRAME_HEADER_BYTES)) return this.judge.notWhole('frame header is short');
        at = 0;
      }
      const h = decodeFrameHeader(this.chunk.buf, at);
      if (typeof h === 'string') return this.judge.invalid(h);
      if (h.baseOffset !== this.#nextOffset) return this.judge.invalid(`frame holds offset ${h.baseOffset}, expected ${this.#nextOffset}`);
      this.loadedFramePosition = this.#framePosition;
      this.loadedFrameOffset = h.baseOffset;
      // Frames wholly before a seek target are passed over without checking each record.
      const passOver = h.baseOffset + h.recordCount <= this.#skipBelowOffset;
      if (at + h.frameBytes > this.chunk.buf.byteLength) {
        // ...and without reading them, when the file is known to hold them whole.
        const frameEndPosition = this.#framePosition + h.frameBytes;
        if (passOver && this.file.holds(frameEndPosition)) {
          this.#framePosition = frameEndPosition;
          this.#nextOffset += h.recordCount;
          continue;
        }
        // A window also when a seek lands on the frame's first record (a seek by time always does).
        const target = this.#skipBelowOffset > h.baseOffset || (this.#skipBelowOffset === h.baseOffset && this.file.isSeeking);
        if (!passOver && target && !this.judge.pastEnd(frameEndPosition - 1) && this.loadWindow(h)) return true;
        if (!this.refill(h.frameBytes)) return this.judge.notWhole('frame runs past the end of the file');
        continue; // the header again, from the bytes just read: they may hold another frame (a torn one cut and rewritten)
      }
      if (passOver) {
        this.#framePosition += h.frameBytes;
        this.#nextOffset += h.recordCount;
        continue;
      }
      const why = this.file.checkFrame(this.chunk, at, h, this.#framePosition);
      if (why !== null) return this.judge.invalid(why);
      if (this.judge.pastEnd(this.#framePosition + h.frameBytes - 1)) return this.judge.atEnd(); // whole now, not at the reader's end
      this.#framePosition += h.frameBytes;
      this.#frameLeft = h.recordCount;
      this.recordPosition = at + FRAME_HEADER_BYTES;
      this.frameTimestampMs = h.timestampMs;
      this.file.seekDone();
      return true;
    }
  }

  /**
   * Uses the sparse index to start near `offset` (or at the end, with `toEnd`): at the greatest entry at or
   * below it that proves itself (entryFrame), else (after MAX_ENTRY_TRIES) at the segment's first frame.
   * The bytes read at the entry stay as the chunk (a plain read: nothing in them is trusted or noted as
   * verified). Only its header is needed when that frame was verified before (loadWindow reads near the target).
   */
  seekInSegment(offset: number, toEnd: boolean): void {
    this.#skipBelowOffset = toEnd ? 0 : offset;
    this.file.startSeek();
    const idx = this.file.index();
    for (let i = floorEntry(idx, offset), tries = 0; i >= 0 && tries < MAX_ENTRY_TRIES; i--, tries++) {
      const at = idx.positions[i]!;
      const bytes = this.file.cacheEntry()?.frames.has(at) === true ? FRAME_HEADER_BYTES : SEEK_READ_BYTES;
      const frame = entryFrame((p, n) => this.file.readAt(p, n), this.#baseOffset, idx.offsets[i]!, at, bytes);
      if (frame === null) continue;
      this.#framePosition = at;
      this.#nextOffset = idx.offsets[i]!;
      this.chunk = plainChunk(frame, at);
      return;
    }
  }

  /** Drops the chunk: the next frame is read afresh from the file. */
  forgetChunk(): void {
    this.chunk = EMPTY_CHUNK;
  }

  /**
   * Seeking, at a frame this thread verified before: reads its header alone, as the chunk (a plain read:
   * the header decides between passing the frame over and loadWindow, which confirms the stamp).
   */
  private readVerifiedHeader(): boolean {
    if (this.#skipBelowOffset <= this.#nextOffset || this.file.cacheEntry()?.frames.has(this.#framePosition) !== true) return false;
    const head = this.file.readAt(this.#framePosition, FRAME_HEADER_BYTES);
    if (head.byteLength < FRAME_HEADER_BYTES) return false;
    this.chunk = plainChunk(head, this.#framePosition);
    return true;
  }

  /**
   * The frame at `framePosition` (header `h`) holds the seek target and this thread verified it before:
   * reads it only from a record start near the target (frame-window.ts). False: read and check it as usual.
   */
  private loadWindow(h: FrameHeader): boolean {
    const w = this.window.start(this.#framePosition, h, this.#skipBelowOffset);
    if (w === null) return false;
    this.chunk = plainChunk(w.buf, w.position);
    this.#framePosition += h.frameBytes;
    this.#nextOffset = h.baseOffset + w.skipped;
    this.#frameLeft = h.recordCount - w.skipped;
    this.recordPosition = 0;
    this.frameTimestampMs = h.timestampMs;
    this.file.seekDone();
    return true;
  }

  /**
   * In a window frame: whether the chunk holds `bytes` from `recordPosition`, reading more of the frame if
   * not. False when the file changed: the reader then goes back to the frame's start to read and check it
   * whole, passing over what it already handed out.
   */
  private windowHolds(bytes: number): boolean {
    if (this.recordPosition + bytes <= this.chunk.buf.byteLength) return true;
    const from = this.chunk.position + this.recordPosition;
    const buf = this.window.more(from, bytes);
    if (buf !== null) {
      this.chunk = plainChunk(buf, from);
      this.recordPosition = 0;
      return true;
    }
    this.#skipBelowOffset = Math.max(this.#skipBelowOffset, this.#nextOffset);
    this.#framePosition = this.window.framePosition;
    this.#nextOffset = this.window.frameOffset;
    this.#frameLeft = 0;
    this.forgetChunk();
    return false;
  }

  /** Reads from `framePosition` into a fresh chunk holding at least `need` bytes if the file has them (SegmentFile.read). */
  private refill(need: number): boolean {
    const r = this.file.read(this.#framePosition, need);
    if (r === null) return false;
    this.chunk = r;
    return this.chunk.buf.byteLength >= need;
  }
}
