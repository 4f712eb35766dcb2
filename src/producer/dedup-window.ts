/**
 * The producer's dedup window: the dedup keys of the newest records, each with the offset of the
 * record that carried it. `append(data, { dedupKey })` asks it first; a key it holds returns that
 * offset and appends nothing.
 *
 * A window of `{ records: n }` holds the keys of the last n offsets of the log (a key at offset o is
 * forgotten once nextOffset - o exceeds n). A window of `{ ms }` holds the keys of records stored in
 * the last ms milliseconds, each aged on a monotonic clock: a key the producer appends itself from
 * its append, a key read back from the log from the age its record's timestamp gave it when the
 * window was made (at most ms after that), so that a wall clock stepped forward does not drop a key
 * appended or stored a moment ago (its retry would append a duplicate), nor one stepped back keep a
 * key past its window (a new record carrying it would be taken for a retry and not appended).
 *
 * Both the lookup and the remembering are O(1) (amortised): a Map from key to offset, and the keys in
 * append order in a queue whose head is dropped as it leaves the window. Memory: one Map entry and one
 * queue slot per key in the window, the key string included.
 */

/** What `Producer.open({ dedupWindow })` takes. */
export type DedupWindowOption =
  | {
    /** The keys of the last `records` offsets: from 1 to 10,000,000. */
    readonly records: number;
  }
  | {
    /** The keys of the records stored in the last `ms` milliseconds: from 1 to 7 days. */
    readonly ms: number;
  };

/** The queue is compacted once this many dropped slots lead it and they are at least half of it. */
const COMPACT_AFTER = 4096;

export class DedupWindow {
  private readonly offsets = new Map<string, number>();
  /** Keys in append order from `head`, with their offsets and (ms windows) their times. */
  private keys: string[] = [];
  private keyOffsets: number[] = [];
  /**
   * `{ ms }` windows, per key: when its age began, on the monotonic clock (the append, or for a key read
   * back from the log the time the window was made less the age its record had then).
   */
  private times: number[] = [];
  private head = 0;
  private readonly records: number;
  private readonly ms: number;
  /** When the window was made, on the monotonic clock and on the wall clock: the ages of the keys read back from the log count from there. */
  private readonly madeMono: number;
  private readonly madeWall: number;

  constructor(
    option: DedupWindowOption,
    /** The wall clock: read once, when the window is made, to age the records read back from the log. */
    now: () => number = Date.now,
    /** A clock that never steps back (the age of every key from then on). */
    private readonly monoNow: () => number = () => performance.now(),
  ) {
    this.records = 'records' in option ? option.records : -1;
    this.ms = 'ms' in option ? option.ms : -1;
    this.madeMono = this.ms >= 0 ? monoNow() : 0;
    this.madeWall = this.ms >= 0 ? now() : 0;
  }

  /** The offset of the record that carried `key`, if the window holds it; `nextOffset` is the log's end. */
  lookup(key: string, nextOffset: number): number | undefined {
    this.forget(nextOffset);
    return this.offsets.get(key);
  }

  /**
   * Records that the record at `offset` carried `key`: one read back from the log, stored at
   * `storedMs` (wall clock), or (without it) one this producer appends now.
   */
  remember(key: string, offset: number, storedMs?: number): void {
    this.offsets.set(key, offset);
    this.keys.push(key);
    this.keyOffsets.push(offset);
    if (this.ms < 0) return;
    // A record stored after the window was made by the wall clock (one stepped back) is taken as new
    // then: it leaves the window at most ms after the window was made.
    this.times.push(storedMs === undefined ? this.monoNow() : this.madeMono - Math.max(0, this.madeWall - storedMs));
  }

  /**
   * Drops the keys that left the window: at offsets below nextOffset - records, or older than ms on
   * the monotonic clock. Keys are in append order and either age only grows along them (the
   * timestamps of the records read back never decrease), so the keys to drop lead the queue.
   */
  forget(nextOffset: number): void {
    const keys = this.keys;
    const oldest = this.ms >= 0 ? this.monoNow() - this.ms : 0; // a key whose age began before this is past the window
    let h = this.head;
    while (h < keys.length && (this.records >= 0 ? this.keyOffsets[h]! < nextOffset - this.records : this.times[h]! < oldest)) {
      const key = keys[h]!;
      // A key appended again after it left the window has a newer entry further on: keep that one.
      if (this.offsets.get(key) === this.keyOffsets[h]) this.offsets.delete(key);
      h++;
    }
    this.head = h;
    if (h >= COMPACT_AFTER && h * 2 >= keys.length) this.compact();
  }

  private compact(): void {
    const h = this.head;
    this.keys = this.keys.slice(h);
    this.keyOffsets = this.keyOffsets.slice(h);
    if (this.ms >= 0) this.times = this.times.slice(h);
    this.head = 0;
  }
}
