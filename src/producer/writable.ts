/**
 * `producer.writable()`: waits without blocking the event loop until the ring has room for a record,
 * so that the next `append` returns without waiting (append itself waits synchronously, bounded by
 * appendTimeoutMs, when the ring is full).
 */
import { ErrorCode, LogError } from '../errors.js';
import { I32, State, ringHasRoom, wakeWriter, type ControlViews } from '../ring/layout.js';
import { waitSlot } from '../ring/wait.js';

/** The longest single wait; the state and the room are looked at again after each. */
const WAIT_SLICE_MS = 50;

/**
 * Resolves once a record of `bytes` payload bytes fits the ring; rejects with the log's error when it
 * stops (`stopped` throws it), ERR_ABORTED when `signal` aborts first, ERR_RECORD_TOO_LARGE when no
 * ring of this size would ever hold it.
 */
export async function waitWritable(c: ControlViews, ringBytes: number, bytes: number, stopped: () => never, signal?: AbortSignal): Promise<void> {
  if (bytes + 4 > ringBytes) throw new LogError(ErrorCode.RECORD_TOO_LARGE, `a record of ${bytes} bytes never fits the ring (ringBytes ${ringBytes})`, { option: 'bytes' });
  for (;;) {
    if (Atomics.load(c.i32, I32.STATE) !== State.RUNNING) stopped();
    if (signal?.aborted === true) throw LogError.aborted('writable()', signal);
    const tail = Atomics.load(c.i32, I32.TAIL);
    if (ringHasRoom(c, ringBytes, bytes)) return;
    // The writer notifies TAIL when PRODUCER_WAITING is set; a synchronous append may clear it, so
    // each wait is also bounded.
    Atomics.store(c.i32, I32.PRODUCER_WAITING, 1);
    wakeWriter(c);
    await waitSlot(c.i32, I32.TAIL, tail, WAIT_SLICE_MS);
  }
}
