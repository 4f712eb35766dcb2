/**
 * The exhausted records of a pool round that wait for their dead letter, and the lanes parked
 * meanwhile. A dead letter is written in log order, once every record before it is finished, and
 * until then the coordinator holds a copy of the record as the lane read it. Behind a slow record a
 * lane may run up to the outcome window (65,536 records) ahead, so without a bound the copies of
 * records that kept failing (an outage downstream) piled up to that many records of any size on the
 * consumer's thread. Past HELD_BYTES, a lane that answered an exhausted record is not given its next
 * task until dead letters are written, except the lane the committed prefix waits for.
 */
import type { Message } from '../types.js';

/** The bytes of exhausted records held for their dead letter past which lanes are parked. */
export const HELD_BYTES = 64 * 1024 * 1024;

/** An exhausted record: its last attempt, and the record as the lane read it. */
export interface Exhausted {
  readonly attempts: number;
  readonly lastError: string | null;
  readonly record: Message;
}

/** What a held record takes: its data, key and headers (a record may be mostly headers: up to 255 values of 64 KiB). */
function bytesOf(record: Message): number {
  let bytes = record.data.byteLength + (record.key?.byteLength ?? 0);
  if (record.headers !== null) for (const [name, value] of Object.entries(record.headers)) bytes += name.length + value.length;
  return bytes;
}

export class ExhaustedRecords {
  private readonly byOffset = new Map<number, Exhausted>();
  private held = 0;
  /** Lanes whose next task waits until fewer bytes are held. */
  private readonly parked = new Set<number>();

  /** Record `offset` of `lane` is exhausted: true when the lane may go on now, false when it is parked. */
  add(offset: number, ex: Exhausted, lane: number): boolean {
    this.byOffset.set(offset, ex);
    this.held += bytesOf(ex.record);
    if (this.held <= HELD_BYTES) return true;
    this.parked.add(lane);
    return false;
  }

  get(offset: number): Exhausted | undefined {
    return this.byOffset.get(offset);
  }

  /** Its dead letter is written. */
  delete(offset: number): void {
    const ex = this.byOffset.get(offset);
    if (ex === undefined) return;
    this.byOffset.delete(offset);
    this.held -= bytesOf(ex.record);
  }

  /**
   * The parked lanes to start again (no longer parked): all of them once few enough bytes are held,
   * else the one whose next record is the first one not finished (nextOf): the committed prefix, and
   * with it the dead letters that free the bytes, waits for it. `stopped`: the round stops, none starts.
   */
  resume(laneCount: number, nextOf: (lane: number) => number, stopped: boolean): number[] {
    if (this.parked.size === 0) return [];
    let prefix = Infinity;
    for (let k = 0; k < laneCount; k++) prefix = Math.min(prefix, nextOf(k));
    const lanes = [...this.parked].filter((lane) => !stopped && (this.held <= HELD_BYTES || nextOf(lane) <= prefix));
    if (stopped) this.parked.clear();
    for (const lane of lanes) this.parked.delete(lane);
    return lanes;
  }
}
