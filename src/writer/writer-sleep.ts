/**
 * How the writer thread waits for work (src/writer/log-writer.ts): the protocol of I32.WRITER_SLEEPING
 * and I32.WRITER_WAKE, by which a producer that publishes records wakes a sleeping writer and one that
 * is not sleeping costs it nothing.
 */
import { I32, I64, State, loadOffset, type ControlViews } from '../ring/layout.js';

/** How long the writer watches an empty ring before it sleeps (see spinForWork). */
const SPIN_MS = 0.05;
/** How long the writer pauses, with nothing to write, while a write-behind call runs (pauseForCall). */
const CALL_PAUSE_MS = 1;

/**
 * Sleeps until woken or `ms` pass, unless work arrived meanwhile (see I32.WRITER_WAKE). `tail`: the
 * ring position written up to; `durableOffset`: what the writer's fsync covered. `blocked`: records
 * are waiting but retention holds them back, so sleep even though the ring is not empty. True when
 * the thread slept (Atomics.wait did not return at once).
 */
export function writerSleep(c: ControlViews, tail: number, durableOffset: number, ms: number, blocked: boolean): boolean {
  const i32 = c.i32;
  if (!blocked && spinForWork(c, tail, durableOffset, false)) return false;
  Atomics.store(i32, I32.WRITER_SLEEPING, 1);
  const wake = Atomics.load(i32, I32.WRITER_WAKE);
  // Blocked by retention: everything written is already durable (writeGroup synced), so a flush
  // target above it waits for retention like the records do; it must not keep the writer awake.
  const idle = (blocked || ((Atomics.load(i32, I32.HEAD) >>> 0) === tail && loadOffset(c, I64.FLUSH_TARGET) <= durableOffset))
    && Atomics.load(i32, I32.STATE) === State.RUNNING
    && Atomics.load(i32, I32.CONTROL_CALLS) === 0;
  const slept = idle && Atomics.wait(i32, I32.WRITER_WAKE, wake, ms) !== 'not-equal';
  Atomics.store(i32, I32.WRITER_SLEEPING, 0);
  return slept;
}

/**
 * Before sleeping, watches the ring for up to SPIN_MS without telling the producer it sleeps: an
 * append in that time costs the producer no wake-up call (a futex system call per append while the
 * writer keeps up, otherwise), and the writer no wake-up of its thread, which takes microseconds
 * mostly and milliseconds at times on a busy machine (docs/performance.md, "Where the written-visible
 * tail comes from"). True when work arrived: new records, or unless `recordsOnly`, a flush, close or
 * a control call. Those change their state and then bump WRITER_WAKE, so the spin reads their state
 * once, after it took the counter, and then watches the counter, which reads no 64-bit slot (a
 * BigInt each read) in the loop.
 */
function spinForWork(c: ControlViews, tail: number, durableOffset: number, recordsOnly: boolean): boolean {
  const i32 = c.i32;
  const wake = Atomics.load(i32, I32.WRITER_WAKE);
  if (!recordsOnly && (Atomics.load(i32, I32.STATE) !== State.RUNNING || Atomics.load(i32, I32.CONTROL_CALLS) !== 0
    || loadOffset(c, I64.FLUSH_TARGET) > durableOffset)) return true;
  const until = performance.now() + SPIN_MS;
  do {
    for (let i = 0; i < 64; i++) {
      if ((Atomics.load(i32, I32.HEAD) >>> 0) !== tail) return true;
    }
    if (!recordsOnly && Atomics.load(i32, I32.WRITER_WAKE) !== wake) return true;
  } while (performance.now() < until);
  return false;
}

/**
 * With nothing to write while a write-behind call runs: watches the ring for records for SPIN_MS as
 * writerSleep does, then waits up to CALL_PAUSE_MS, woken early by new records, before the writer lets
 * its event loop turn for the call's callback. It watches for records only, and its wait does not
 * depend on the state (a close waits for the call too), so that, unlike writerSleep, it does not
 * return at once again and again; a request made during the watch (it bumps WRITER_WAKE) ends the
 * wait at once, and the next pause waits for the next one. True when the thread slept; false when
 * records or a request came.
 */
export function pauseForCall(c: ControlViews, tail: number): boolean {
  const i32 = c.i32;
  // Before the watch: a flush, close or control call during it ends the wait at once.
  const wake = Atomics.load(i32, I32.WRITER_WAKE);
  if (spinForWork(c, tail, 0, true)) return false;
  Atomics.store(i32, I32.WRITER_SLEEPING, 1);
  const slept = (Atomics.load(i32, I32.HEAD) >>> 0) === tail && Atomics.wait(i32, I32.WRITER_WAKE, wake, CALL_PAUSE_MS) !== 'not-equal';
  Atomics.store(i32, I32.WRITER_SLEEPING, 0);
  return slept;
}
