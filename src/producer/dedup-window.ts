/**
 * The producer's dedup window: the dedup keys of the newest records, each with the offset of the
 * record that carried it. `append(data, { dedupKey })` asks it first; a key it holds returns that
 * offset and appends nothing.
 *
 * A window of `{ records: n }` holds the keys of the last n offsets of the log (a key at offset o is
 * forgotten once nextOffset - o exceeds n). A window of `{ ms }` holds the keys of records stored in
 * the last ms milliseconds: by the records' timestamps when it is rebuilt from the log, by the
 * producer's clock for the records it appends itself.
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
  private times: number[] = [];
  private head = 0;
  private readonly records: number;
  private readonly ms: number;

  constructor(option: DedupWindowOption, private readonly now: () => number = Date.now) {
    this.records = 'records' in option ? option.records : -1;
    this.ms = 'ms' in option ? option.ms : -1;
  }

  /** The offset of the record that carried `key`, if the window holds it; `nextOffset` is the log's end. */
  lookup(key: string, nextOffset: number): number | undefined {
    this.forget(nextOffset, this.ms >= 0 ? this.now() : 0);
    return this.offsets.get(key);
  }

  /** Records that the record at `offset` carried `key` (it was stored at `timeMs`, by default now). */
  remember(key: string, offset: number, timeMs = this.ms >= 0 ? this.now() : 0): void {
    this.offsets.set(key, offset);
    this.keys.push(key);
    this.keyOffsets.push(offset);
    if (this.ms >= 0) this.times.push(timeMs);
  }

  /** Drops the keys that left the window: at offsets below nextOffset - records, or older than ms. */
  forget(nextOffset: number, nowMs: number): void {
    const keys = this.keys;
    let h = this.head;
    while (h < keys.length && (this.records >= 0 ? this.keyOffsets[h]! < nextOffset - this.records : this.times[h]! < nowMs - this.ms)) {
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
