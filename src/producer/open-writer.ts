/**
 * The first steps of Producer.open, before the handle exists: the options resolved, the directory
 * created and locked, the shared memory made, the writer thread started and its recovery done.
 */
import { randomInt } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { ErrorCode, LogError, isLogError } from '../errors.js';
import { checkSocketNameFor, checkSocketPathFor } from '../funnel/server.js';
import { CONTROL_BYTES, Gate, I32, I64, controlViews, storeOffset, type SharedLog } from '../ring/layout.js';
import { newRing, setRingId } from '../ring/ring-memory.js';
import { fileIO, makeLogDir, type FileIO } from '../storage/file-io.js';
import { acquireLock, producerLockPath, type HeldLock } from '../storage/lock.js';
import { loadNativeLock } from '../storage/native-lock.js';
import { listLogDir, readSegmentHeader, segmentName } from '../segment/segment-files.js';
import { besideItsLog, refuseInsideLog, requireLogDirectory } from '../storage/log-dir.js';
import { STATS_BYTES } from '../writer/writer-stats.js';
import { absolutePath, describe, unwalkablePath } from '../validate.js';
import { resolveProducerOptions, type ProducerOptions, type ResolvedProducerOptions } from './options.js';
import { startWriter, type ReadyMessage } from './writer-thread.js';
import { dirIdentityOf, sameDir, type DirIdentity } from '../reader/dir-identity.js';

/** A locked directory with its writer thread running and recovered. */
export interface OpenWriter {
  readonly io: FileIO;
  /** The options with every default applied, `logDir` as its real path. */
  readonly options: ResolvedProducerOptions;
  readonly lock: HeldLock;
  readonly shared: SharedLog;
  readonly worker: Worker;
  readonly ready: ReadyMessage;
  /** The handle's end of the control port (src/writer/control-port.ts). */
  readonly controlPort: MessagePort;
  /**
   * The device and inode of the directory, taken before the lock and found the same once the writer
   * recovered; null when they cannot be read or changed meanwhile (registry.ts: a consumer then takes
   * no frame on the writer's word, src/ring/writer-frames.ts).
   */
  readonly dirIdentity: DirIdentity;
}

/** Resolves the options, creates and locks the directory, starts the writer. The lock is released if a later step fails. */
export async function openWriter(options: ProducerOptions): Promise<OpenWriter> {
  const opts = resolveProducerOptions(options);
  // Resolved before the first await: a relative path names what it named at the call, whatever
  // process.chdir() happens before the open settles (Consumer.open resolves its path at the call too).
  const dir = absolutePath(opts.logDir);
  if (opts.acceptConnections) checkSocketPathFor(dir); // bad input: before the directory is made
  const io = await fileIO();
  // A new log inside another log's directory: refused before anything is made there.
  if (!besideItsLog.has(options)) refuseInsideLog(io, dir, opts.logDir);
  // The lock's addon (a package that may be missing from a bundle's node_modules): loaded before anything is made.
  loadNativeLock();
  try {
    makeLogDir(io, dir);
  } catch (e) {
    // A path through or onto a file is bad input, not an I/O failure.
    const sys = (e as NodeJS.ErrnoException).code;
    if (sys === 'EEXIST' || sys === 'ENOTDIR') throw LogError.invalidOption('logDir', `${opts.logDir} is not a directory (${sys})`);
    const why = unwalkablePath(sys);
    if (why !== null) throw LogError.invalidOption('logDir', `${describe(opts.logDir)} ${why}`);
    throw LogError.fromSystem(e, 'creating the log directory', opts.logDir);
  }
  // The same resolution as Consumer.open's, so that an in-process consumer finds this producer.
  const realDir = realpathSync.native(dir);
  const identity = identityOrNull(io, realDir);
  // Somebody else's files (a directory not empty, holding none of a log's): refused before the lock is written.
  requireLogDirectory(io, realDir, opts.logDir);
  // A file at the socket's name that is not a socket would fail the listener after recovery: refused first.
  if (opts.acceptConnections) checkSocketNameFor(realDir);
  const resolved: ResolvedProducerOptions = { ...opts, logDir: realDir };
  const lockPath = producerLockPath(realDir);
  const shared: SharedLog = {
    control: new SharedArrayBuffer(CONTROL_BYTES), ring: newRing(resolved.ringBytes), stats: new SharedArrayBuffer(STATS_BYTES),
  };
  const { port1, port2 } = new MessageChannel();
  // The writer thread starts now and waits at its gate (I32.START_GATE) until this open holds the
  // lock: its start (an isolate and its bundle, the larger part of an open) overlaps the lock's.
  const starting = startWriter({ options: resolved, shared, controlPort: port2 });
  starting.ready.catch(() => undefined); // observed below, or ended by a refused open
  const views = controlViews(shared.control);
  const gate = views.i32;
  Atomics.store(gate, I32.RING_BYTES, resolved.ringBytes);
  // The same random id in the control block and the ring: a token's ring must be its block's (producer-token.ts).
  const ringId = randomInt(1, 2 ** 31);
  setRingId(shared.ring, ringId);
  storeOffset(views, I64.RING_ID, ringId);
  const openGate = (value: number): void => {
    Atomics.store(gate, I32.START_GATE, value);
    Atomics.notify(gate, I32.START_GATE);
  };
  // A refused open ends the thread before it rejects: it has not touched the directory (it waits at
  // its gate, or has not reached it yet), and nothing of it outlives the call.
  const stop = async (): Promise<void> => {
    openGate(Gate.STOP);
    port1.close();
    await starting.worker.terminate();
  };
  let taken: ReturnType<typeof acquireLock>;
  try {
    // A newer reactive-log's log is refused before the lock file is written: nothing of the directory
    // changes, its mtime included (recovery looks again under the lock).
    refuseNewerFormatBeforeLock(io, realDir);
    // A lock file a dead owner left is claimed once recovery is done: an open it refuses leaves it as it was.
    taken = acquireLock(io, lockPath, { keepFound: true });
  } catch (e) {
    await stop();
    throw e;
  }
  if (!taken.ok) {
    await stop();
    throw new LogError(ErrorCode.LOG_LOCKED, `log directory ${opts.logDir} is held by another producer${taken.ownerPid !== null ? ` (pid ${taken.ownerPid})` : ''}`, { file: lockPath });
  }
  try {
    openGate(Gate.GO);
    const ready = await starting.ready.catch((e: unknown) => {
      port1.close();
      throw e;
    });
    try {
      taken.lock.claim();
    } catch (e) {
      port1.close();
      await starting.worker.terminate();
      throw e;
    }
    taken.lock.markRecovered(); // the writer's recovery is done (ready)
    const dirIdentity = sameDir(identity, identityOrNull(io, realDir)) === true ? identity : null;
    return { io, options: resolved, lock: taken.lock, shared, worker: starting.worker, ready, controlPort: port1, dirIdentity };
  } catch (e) {
    taken.lock.release();
    throw e;
  }
}

/**
 * ERR_UNSUPPORTED_FORMAT when the newest segment names a newer format (a newer version writes its
 * segments in its format); any other trouble is recovery's to judge, under the lock, which also reads
 * the other segments' headers. One header only: an open's cost does not grow with the log here.
 */
function refuseNewerFormatBeforeLock(io: FileIO, dir: string): void {
  let newest: number | undefined;
  let fd: number;
  try {
    newest = listLogDir(io, dir).bases.at(-1);
    if (newest === undefined) return;
    fd = io.open(join(dir, segmentName(newest)), 'r');
  } catch {
    return; // a listing or an open that fails: recovery's to report, as a coded error
  }
  try {
    readSegmentHeader(io, fd, segmentName(newest));
  } catch (e) {
    if (isLogError(e) && e.code === ErrorCode.UNSUPPORTED_FORMAT) throw e;
  } finally {
    try {
      io.close(fd);
    } catch { /* recovery's to report */ }
  }
}

/** The directory's device and inode, or null when they cannot be read. */
function identityOrNull(io: FileIO, dir: string): DirIdentity {
  try {
    return dirIdentityOf(io, dir);
  } catch {
    return null;
  }
}
