/**
 * The producer's dedup window: the dedup keys of the newest records, each with the offset of the
 * record that carried it. `append(data, { dedupKey })` asks it first; a key it holds returns that
 * offset and appends nothing.
 *
 * A window of `{ records: n }` holds the keys of the last n offsets of the log (a key at offset o is
 * forgotten once nextOffset - o exceeds n). A window of `{ ms }` holds the keys of records stored in
 * the last ms milliseconds: by the records' timestamps when it is rebuilt from the log (and at most
 * ms after the window was made), by the time passed since the append on a monotonic clock for the
 * records the producer appends itself, so that a wall clock stepped forward does not drop a key
 * appended a moment ago (its retry would append a duplicate), nor one stepped back keep a key past
 * its window (a new record carrying it would be taken for a retry and not appended).
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
   * `{ ms }` windows, per key: the record's stored time (wall clock) for a key read back from the log,
   * or, for a key this producer appended, the monotonic time of its append, flagged by `appended`.
   */
  private times: number[] = [];
  private appended: boolean[] = [];
  private head = 0;
  private readonly records: number;
  private readonly ms: number;
  /** When the window was made, on the monotonic clock: a key read back from the log is at least this old. */
  private readonly madeMono: number;

  constructor(
    option: DedupWindowOption,
    private readonly now: () => number = Date.now,
    /** A clock that never steps back (the age of the keys appended in this run). */
    private readonly monoNow: () => number = () => performance.now(),
  ) {
    this.records = 'records' in option ? option.records : -1;
    this.ms = 'ms' in option ? option.ms : -1;
    this.madeMono = this.ms >= 0 ? monoNow() : 0;
  }

  /** The offset of the record that carried `key`, if the window holds it; `nextOffset` is the log's end. */
  lookup(key: string, nextOffset: number): number | undefined {
    this.forget(nextOffset, this.ms >= 0 ? this.now() : 0);
    return this.offsets.get(key);
  }

  /**
   * Records that the record at `offset` carried `key`: one read back from the log, stored at
   * `storedMs`, or (without it) one this producer appends now.
   */
  remember(key: string, offset: number, storedMs?: number): void {
    this.offsets.set(key, offset);
    this.keys.push(key);
    this.keyOffsets.push(offset);
    if (this.ms < 0) return;
    this.times.push(storedMs ?? this.monoNow());
    this.appended.push(storedMs === undefined);
  }

  /**
   * Drops the keys that left the window: at offsets below nextOffset - records, or older than ms (a key
   * appended in this run on the monotonic clock; one read back from the log by its stored time, or
   * once the window itself is older than ms). Keys are in append order and either age only grows
   * along them, so the keys to drop lead the queue.
   */
  forget(nextOffset: number, nowMs: number): void {
    const keys = this.keys;
    const mono = this.ms >= 0 ? this.monoNow() : 0;
    let h = this.head;
    while (h < keys.length && (this.records >= 0 ? this.keyOffsets[h]! < nextOffset - this.records : this.expired(h, nowMs, mono))) {
      const key = keys[h]!;
      // A key appended again after it left the window has a newer entry further on: keep that one.
      if (this.offsets.get(key) === this.keyOffsets[h]) this.offsets.delete(key);
      h++;
    }
    this.head = h;
    if (h >= COMPACT_AFTER && h * 2 >= keys.length) this.compact();
  }

  /** Whether key `h` of a `{ ms }` window is older than ms, at wall time `nowMs` and monotonic time `mono`. */
  private expired(h: number, nowMs: number, mono: number): boolean {
    const t = this.times[h]!;
    if (this.appended[h]) return mono - t > this.ms;
    return t < nowMs - this.ms || mono - this.madeMono > this.ms;
  }

  private compact(): void {
    const h = this.head;
    this.keys = this.keys.slice(h);
    this.keyOffsets = this.keyOffsets.slice(h);
    if (this.ms >= 0) {
      this.times = this.times.slice(h);
      this.appended = this.appended.slice(h);
    }
    this.head = 0;
  }
}
