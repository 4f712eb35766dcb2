/**
 * Write-behind for the sync policies that do not fsync every group (`never`, `periodic`,
 * `everyBytes` above WRITE_BEHIND_BYTES). Every WRITE_BEHIND_BYTES written to the active segment, the
 * writer starts an fdatasync of it on libuv's thread pool (`fs.fdatasync` with a callback) and goes on
 * writing, so the fsync that a roll, a flush or a periodic sync has to make finds little left to write
 * (without it, the seal of a 64 MiB segment waits for all of it at once, and the ring fills meanwhile).
 *
 * Durability does not change: only the writer's own fsync publishes an offset as durable. A call runs on
 * a descriptor of its own, the writer's file opened anew for that call (through /proc/self/fd where
 * there is one, so it is the very file the writer writes; else by its path) and closed when it ends,
 * so it never touches the writer's descriptor, and the writer never blocks on it:
 * - Linux keeps a writeback error per file and reports it to every open file description of the file
 *   at its next fsync (errseq_t, Linux 4.13 and later; Node 20 needs 4.18). A failed writeback that a
 *   call meets is met by the writer's own next fdatasync too, on its own description, which then
 *   publishes nothing. A call that shared the writer's descriptor would take that report from it.
 * - Not every failure travels that way (an error the file system hands only to the caller that started
 *   the writeback), so the writer publishes no durable offset while a call's result is unknown
 *   (src/writer/durable-publish.ts), and a call's error fails the log at the writer's next write,
 *   sync or publication.
 * - Only one call runs at a time. Its callback runs on the writer thread's event loop, which turns only
 *   between runs of the writer's loop, so while a call runs the writer asks for a turn (wrote() returns
 *   true) once per TURN_BYTES written, and with nothing to write it lets the loop turn every
 *   millisecond (LogWriter.run, writer-sleep.ts pauseForCall).
 *
 * A file layer without `fdatasyncBehind` (the crash simulator) gets no calls. A descriptor left open by
 * a writer thread that is stopped (destroy()) is closed by Node with the thread, once its call ended.
 */
import { LogError } from '../errors.js';
import type { FileIO } from '../storage/file-io.js';
import type { ActiveSegment } from '../segment/active-segment.js';
import type { SyncPolicy } from '../producer/options.js';

/** How many bytes the writer writes to the active segment between two write-behind calls. */
export const WRITE_BEHIND_BYTES = 8 * 1024 * 1024;
/** While a call runs: bytes written between two turns of the writer's event loop (which runs its callback). */
const TURN_BYTES = 1024 * 1024;

export class WriteBehind {
  private readonly off: boolean;
  /** Whether /proc/self/fd names this process's descriptors (Linux). */
  private readonly procFd: boolean;
  private callRunning = false;
  private bytesSinceCall = 0;
  private bytesSinceTurn = 0;
  /** A call's error, thrown at the writer's next write or sync. */
  private failure: LogError | null = null;

  constructor(private readonly io: FileIO, policy: SyncPolicy) {
    // Only where the policy leaves fsyncs apart by more than a call's worth of bytes.
    const wanted = policy.kind === 'never' || policy.kind === 'periodic' || (policy.kind === 'everyBytes' && policy.bytes > WRITE_BEHIND_BYTES);
    this.off = !wanted || io.fdatasyncBehind === undefined;
    this.procFd = !this.off && io.exists('/proc/self/fd');
  }

  /**
   * `bytes` more were written to `segment`: throws a call's error, and starts the next call once
   * WRITE_BEHIND_BYTES have been written since the last. True when the writer should let its event
   * loop turn (a call runs and its callback may be waiting).
   */
  wrote(bytes: number, segment: ActiveSegment): boolean {
    if (this.off) return false;
    if (this.failure !== null) throw this.failure;
    this.bytesSinceCall += bytes;
    if (this.callRunning) {
      this.bytesSinceTurn += bytes;
      if (this.bytesSinceTurn < TURN_BYTES) return false;
      this.bytesSinceTurn = 0;
      return true;
    }
    if (this.bytesSinceCall < WRITE_BEHIND_BYTES) return false;
    this.start(this.procFd ? `/proc/self/fd/${segment.dataFd}` : segment.path, segment.path);
    return false;
  }

  /** A call was started and its callback has not run yet: its result is unknown. */
  get running(): boolean {
    return this.callRunning;
  }

  /** Throws the error a call's callback reported. */
  check(): void {
    if (this.failure !== null) throw this.failure;
  }

  /** Before the writer's own fsync: throws a call's error; the next call comes WRITE_BEHIND_BYTES after this fsync. */
  settle(): void {
    this.check();
    this.bytesSinceCall = 0;
  }

  /** `open`: the name to open the writer's file by; `path`: its path, for messages. */
  private start(open: string, path: string): void {
    this.bytesSinceCall = 0;
    this.bytesSinceTurn = 0;
    let fd: number;
    try {
      fd = this.io.open(open, 'r');
    } catch {
      // A path gone (the directory removed under the log): the writer's own fsync checks the segment
      // is still linked and fails then. A call only saves time.
      return;
    }
    this.callRunning = true;
    try {
      this.io.fdatasyncBehind!(fd, (err) => {
        this.callRunning = false;
        try { this.io.close(fd); } catch { /* the call is over; its result is what counts */ }
        if (err !== null && this.failure === null) this.failure = failureOf(err, path);
      });
    } catch (e) {
      this.callRunning = false;
      try { this.io.close(fd); } catch { /* as above */ }
      this.failure = failureOf(e, path);
    }
  }
}

function failureOf(err: unknown, path: string): LogError {
  return LogError.fromSystem(err, 'fdatasync (write-behind)', path);
}
