/**
 * What the reader's classes promise each other: the hint a pool lane passes on (where a reader
 * stands, checked again by whoever jumps to it), and the judge a SegmentReader asks when the bytes
 * where a frame should start are not a whole, valid frame, or whether a frame lies past the end it
 * may read (LogReader decides, knowing the segments around it).
 */

/** A frame boundary in a segment: a record offset and the file position of the frame that starts there. */
export interface ReaderHint {
  /** The segment's base offset. */
  readonly seg: number;
  /** The frame's byte position in the segment. */
  readonly pos: number;
  /** The offset of the frame's first record. */
  readonly base: number;
}

/**
 * What the holder of a SegmentReader decides when the bytes at `framePosition` are not a whole, valid
 * frame, and how far it may read.
 */
export interface FrameJudge {
  /** The frame runs past the end of the file: damage (throws), or not written yet (false). */
  notWhole(why: string): false;
  /** The bytes are not a valid frame: damage (throws), or a frame being written or a torn tail (false). */
  invalid(why: string, seenSize?: number): false;
  /** Whether byte `position` of the open segment lies past the end the reader was given. */
  pastEnd(position: number): boolean;
  /** A frame runs past that end: it is left for a later read (false). */
  atEnd(): false;
}

/**
 * The writer of this process, as a reader sees it (src/ring/writer-frames.ts): frames it wrote lately
 * and published as written need no new check.
 */
export interface WriterFrames {
  /** The first offset of the frames this writer wrote lately; Infinity: none, or the writer no longer runs. */
  freshFrom(): number;
  /** Every record below this offset is written to the files. */
  writtenEnd(): number;
}
