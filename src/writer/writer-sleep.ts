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
 * are waiting but retention holds them back, so sleep even though the ring is not empty.
 */
export function writerSleep(c: ControlViews, tail: number, durableOffset: number, ms: number, blocked: boolean): void {
  const i32 = c.i32;
  if (!blocked && spinForWork(c, tail, durableOffset)) return;
  Atomics.store(i32, I32.WRITER_SLEEPING, 1);
  const wake = Atomics.load(i32, I32.WRITER_WAKE);
  // Blocked by retention: everything written is already durable (writeGroup synced), so a flush
  // target above it waits for retention like the records do; it must not keep the writer awake.
  const idle = (blocked || ((Atomics.load(i32, I32.HEAD) >>> 0) === tail && loadOffset(c, I64.FLUSH_TARGET) <= durableOffset))
    && Atomics.load(i32, I32.STATE) === State.RUNNING
    && Atomics.load(i32, I32.CONTROL_CALLS) === 0;
  if (idle) Atomics.wait(i32, I32.WRITER_WAKE, wake, ms);
  Atomics.store(i32, I32.WRITER_SLEEPING, 0);
}

/**
 * Before sleeping, watches the ring for up to SPIN_MS without telling the producer it sleeps: an
 * append in that time costs the producer no wake-up call (a futex system call per append while the
 * writer keeps up, otherwise). True when work arrived (new records, a flush, close).
 */
function spinForWork(c: ControlViews, tail: number, durableOffset: number): boolean {
  const i32 = c.i32;
  const until = performance.now() + SPIN_MS;
  do {
    for (let i = 0; i < 64; i++) {
      if ((Atomics.load(i32, I32.HEAD) >>> 0) !== tail) return true;
    }
    if (Atomics.load(i32, I32.STATE) !== State.RUNNING || Atomics.load(i32, I32.CONTROL_CALLS) !== 0
      || loadOffset(c, I64.FLUSH_TARGET) > durableOffset) return true;
  } while (performance.now() < until);
  return false;
}

/**
 * With nothing to write while a write-behind call runs: waits up to CALL_PAUSE_MS, woken early by new
 * records, before the writer lets its event loop turn for the call's callback. In any state (a close
 * waits for the call too), so that this wait, unlike writerSleep, never returns at once and spins.
 */
export function pauseForCall(c: ControlViews, tail: number): void {
  const i32 = c.i32;
  Atomics.store(i32, I32.WRITER_SLEEPING, 1);
  const wake = Atomics.load(i32, I32.WRITER_WAKE);
  if ((Atomics.load(i32, I32.HEAD) >>> 0) === tail) Atomics.wait(i32, I32.WRITER_WAKE, wake, CALL_PAUSE_MS);
  Atomics.store(i32, I32.WRITER_SLEEPING, 0);
}
