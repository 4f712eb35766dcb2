/**
 * The one narrow interface every file operation of the writer, readers, locks and recovery goes
 * through. The real implementation is node:fs; tests substitute a fault injector or a crash simulator.
 * Synchronous calls (the writer is a dedicated thread, and readers do small positional reads), but
 * for the write-behind's fdatasync, which runs on libuv's thread pool while the writer goes on.
 */
import * as fs from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * How a file is opened: 'r' read, 'r+' read and write, 'w' write (created or truncated), 'wx' write a
 * new file (EEXIST if it exists), 'r+c' read and write, created if missing, never truncated; 'lock'
 * read and write, never through a symbolic link (a lock file: EFTYPE for a link); 'lockx' as 'lock',
 * a new file (EEXIST if it exists): read and write as well, since a lock's descriptor also takes a
 * shared lock (a read lock), which the kernel refuses on a descriptor open for writing only (EBADF).
 */
export type OpenFlags = 'r' | 'r+' | 'w' | 'wx' | 'r+c' | 'dir' | 'lock' | 'lockx';

export interface FileIO {
  /**
   * Opens a regular file, or with 'dir' a directory (for fsyncDir). Never blocks: anything else at
   * `path` (a FIFO, a socket, a device, a directory where a file is expected) fails with the code
   * EFTYPE, which LogError.fromSystem reports as ERR_LOG_CORRUPT.
   */
  open(path: string, flags: OpenFlags, mode?: number): number;
  close(fd: number): void;
  /** Reads up to `length` bytes at `position`; returns how many were read (0 at end of file). */
  read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  /** Writes buffers at `position`; returns bytes written, which may be short. */
  writev(fd: number, bufs: readonly Uint8Array[], position: number): number;
  fdatasync(fd: number): void;
  /**
   * fdatasync on libuv's thread pool: `done` runs on this thread's event loop once it ended. Optional:
   * a file layer without it (the crash simulator) gets no write-behind (src/writer/write-behind.ts).
   */
  fdatasyncBehind?(fd: number, done: (err: Error | null) => void): void;
  fsync(fd: number): void;
  ftruncate(fd: number, length: number): void;
  fsize(fd: number): number;
  readdir(dir: string): string[];
  unlink(path: string): void;
  rename(from: string, to: string): void;
  link(existing: string, newPath: string): void;
  mkdirp(dir: string): void;
  exists(path: string): boolean;
  /**
   * Takes an exclusive advisory lock on the whole open file without waiting for an owner; false if
   * another open file description holds it (a look's shared lock, held for an instant, is waited
   * out, up to 1 s: native-lock.ts). On Linux this is an open-file-description lock: two descriptors
   * conflict even in one process, and the kernel releases it when the descriptor is closed or the
   * process dies (src/storage/lock.ts).
   */
  tryLock(fd: number): boolean;
  /** Whether `path` still names the file open on `fd` (same device and inode). */
  isSameFile(fd: number, path: string): boolean;
  /** The wall clock, ms since the epoch (Date.now). A layer for tests may step it back. */
  now(): number;
  /**
   * The identity and change stamp of an open file (fstat with nanosecond times). Optional: a file layer
   * without it (the crash simulator) gets no reader caches (src/reader/verified-cache.ts).
   */
  stamp?(fd: number): FileStamp;
  /** The same for a path (stat): used for the log directory. Optional, as `stamp`. */
  stampPath?(path: string): FileStamp;
}

/**
 * What tells one version of a file from another for the reader caches: the file (device and inode)
 * and its size, modification and change times in nanoseconds. Any write, truncation, rename over it
 * or entry change (for a directory) moves mtime or ctime to the current time (docs/architecture.md,
 * "Reader caches", says when that is enough).
 */
export interface FileStamp {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
}

function toStamp(s: fs.BigIntStats): FileStamp {
  return { dev: s.dev, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs };
}

const { O_RDONLY, O_RDWR, O_WRONLY, O_CREAT, O_TRUNC, O_EXCL, O_NONBLOCK, O_NOFOLLOW } = fs.constants;
const OPEN_FLAGS: Readonly<Record<OpenFlags, number>> = {
  r: O_RDONLY,
  'r+': O_RDWR,
  w: O_WRONLY | O_CREAT | O_TRUNC,
  wx: O_WRONLY | O_CREAT | O_EXCL,
  'r+c': O_RDWR | O_CREAT,
  dir: O_RDONLY,
  lock: O_RDWR | (O_NOFOLLOW ?? 0),
  lockx: O_RDWR | O_CREAT | O_EXCL | (O_NOFOLLOW ?? 0),
};

function wrongType(path: string, what: string): Error {
  return Object.assign(new Error(`${path} is ${what}, not a regular file`), { code: 'EFTYPE', path, syscall: 'open' });
}

function fileKind(s: fs.Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * open(2) with O_NONBLOCK, so that a FIFO at a path where the log expects a file cannot block the
 * thread (on a regular file O_NONBLOCK changes nothing), then fstat: only regular files pass, or
 * only directories when opened 'dir'.
 */
function openChecked(path: string, flags: OpenFlags, mode?: number): number {
  const bits = OPEN_FLAGS[flags];
  if (bits === undefined) throw new TypeError(`unknown open flags ${String(flags)}`);
  let fd: number;
  try {
    fd = fs.openSync(path, bits | O_NONBLOCK, mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // EISDIR: a directory opened for writing; ENXIO: a FIFO without a reader or a socket, for writing.
    if (code === 'EISDIR' || code === 'ENXIO') throw wrongType(path, code === 'EISDIR' ? 'a directory' : 'a FIFO or socket');
    if (code === 'ELOOP' && (flags === 'lock' || flags === 'lockx')) throw wrongType(path, 'a symbolic link');
    throw e;
  }
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  if (flags === 'dir' ? st.isDirectory() : st.isFile()) return fd;
  fs.closeSync(fd);
  throw wrongType(path, fileKind(st));
}

/** node:fs's tryLock: the kernel lock once native-lock.ts installed it (only the threads that lock load it). */
let nodeLock: ((fd: number) => boolean) | null = null;

/** Sets the lock behind node:fs's FileIO.tryLock (native-lock.ts). */
export function setNodeLock(lock: (fd: number) => boolean): void {
  nodeLock = lock;
}

function tryLockNode(fd: number): boolean {
  if (nodeLock === null) throw new Error('internal invariant broken: a file lock taken before native-lock.ts installed it');
  return nodeLock(fd);
}

export const nodeFileIO: FileIO = {
  open: openChecked,
  close: (fd) => fs.closeSync(fd),
  read: (fd, buf, offset, length, position) => fs.readSync(fd, buf, offset, length, position),
  writev: (fd, bufs, position) => fs.writevSync(fd, bufs as Uint8Array[], position),
  fdatasync: (fd) => fs.fdatasyncSync(fd),
  fdatasyncBehind: (fd, done) => fs.fdatasync(fd, done),
  fsync: (fd) => fs.fsyncSync(fd),
  ftruncate: (fd, length) => fs.ftruncateSync(fd, length),
  fsize: (fd) => fs.fstatSync(fd).size,
  readdir: (dir) => fs.readdirSync(dir),
  unlink: (path) => fs.unlinkSync(path),
  rename: (from, to) => fs.renameSync(from, to),
  link: (existing, newPath) => fs.linkSync(existing, newPath),
  mkdirp: (dir) => mkdirp(dir),
  exists: (path) => fs.existsSync(path),
  tryLock: tryLockNode,
  isSameFile: (fd, path) => {
    const a = fs.fstatSync(fd);
    const b = fs.statSync(path, { throwIfNoEntry: false });
    return b !== undefined && a.dev === b.dev && a.ino === b.ino;
  },
  now: Date.now,
  stamp: (fd) => toStamp(fs.fstatSync(fd, { bigint: true })),
  stampPath: (path) => toStamp(fs.statSync(path, { bigint: true })),
};

/**
 * A view of `io` that can only read: opening for anything but 'r', and every call that writes, syncs,
 * truncates, renames, links or removes, throws. The verifier runs on it, so that it cannot change a
 * log directory even by mistake. It has no `stamp`: a reader on it never uses the reader caches.
 */
export function readOnlyFileIO(io: FileIO): FileIO {
  const refuse = (what: string) => (): never => {
    throw Object.assign(new Error(`read-only file access: ${what} refused`), { code: 'EROFS' });
  };
  return {
    open: (path, flags, mode) => {
      if (flags !== 'r') refuse(`open with flags "${flags}"`)();
      return io.open(path, flags, mode);
    },
    close: (fd) => io.close(fd),
    read: (fd, buf, offset, length, position) => io.read(fd, buf, offset, length, position),
    fsize: (fd) => io.fsize(fd),
    readdir: (dir) => io.readdir(dir),
    exists: (path) => io.exists(path),
    isSameFile: (fd, path) => io.isSameFile(fd, path),
    now: () => io.now(),
    tryLock: refuse('lock'),
    writev: refuse('write'),
    fdatasync: refuse('fdatasync'),
    fsync: refuse('fsync'),
    ftruncate: refuse('ftruncate'),
    unlink: refuse('unlink'),
    rename: refuse('rename'),
    link: refuse('link'),
    mkdirp: refuse('mkdir'),
  };
}

/** Writes every byte of `bufs` at `position`, looping over short writes (writev does not loop for us). */
export function writeAll(io: FileIO, fd: number, bufs: readonly Uint8Array[], position: number): number {
  let total = 0;
  for (const b of bufs) total += b.byteLength;
  let done = io.writev(fd, bufs, position);
  while (done < total) {
    // A short write: continue with what is left, starting inside the buffer where it stopped.
    const rest: Uint8Array[] = [];
    let skip = done;
    for (const b of bufs) {
      if (skip >= b.byteLength) { skip -= b.byteLength; continue; }
      rest.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
    const n = io.writev(fd, rest, position + done);
    if (n <= 0) throw Object.assign(new Error(`write made no progress at byte ${position + done}`), { code: 'EIO' });
    done += n;
  }
  return total;
}

/** Reads exactly `length` bytes at `position` unless the file ends first; returns bytes read. */
export function readFull(io: FileIO, fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = io.read(fd, buf, offset + got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** fsyncs a directory so that entries created, renamed or removed in it are durable. */
export function fsyncDir(io: FileIO, dir: string): void {
  const fd = io.open(dir, 'dir');
  try {
    io.fsync(fd);
  } finally {
    io.close(fd);
  }
}

let resolved: { readonly key: string; io: Promise<FileIO>; ready: FileIO | null } | null = null;

/**
 * The file layer for this thread: node:fs, unless the environment variable REACTIVE_LOG_TEST_FILE_IO
 * names a module whose default export wraps the real layer (a fault injector or a crash tracer). Only
 * tests set it. Every opener (producer, writer thread, consumer, pool worker) asks here, so one hook
 * reaches the writer, readers, cursors, locks and recovery alike.
 */
export function fileIO(): Promise<FileIO> {
  const key = process.env.REACTIVE_LOG_TEST_FILE_IO ?? '';
  if (resolved?.key !== key) {
    const r: NonNullable<typeof resolved> = { key, io: Promise.resolve(nodeFileIO), ready: key === '' ? nodeFileIO : null };
    if (key !== '') {
      r.io = import(pathToFileURL(key).href).then((mod: { default: (real: FileIO) => FileIO }) => (r.ready = mod.default(nodeFileIO)));
    }
    resolved = r;
  }
  return resolved.io;
}

/** What fileIO() resolves to, when that is known already (then no await is needed); else null. */
export function fileIONow(): FileIO | null {
  const key = process.env.REACTIVE_LOG_TEST_FILE_IO ?? '';
  if (key === '') return nodeFileIO;
  return resolved?.key === key ? resolved.ready : null;
}

/** Reads a whole (small) file. Throws the system error (ENOENT and so on). */
export function readWhole(io: FileIO, path: string): Buffer {
  const fd = io.open(path, 'r');
  try {
    const size = io.fsize(fd);
    const buf = Buffer.alloc(size);
    return buf.subarray(0, readFull(io, fd, buf, 0, size, 0));
  } finally {
    io.close(fd);
  }
}

/** Creates a new file (failing if it exists) holding `bytes`; not fsynced. */
export function writeNew(io: FileIO, path: string, bytes: Uint8Array): void {
  const fd = io.open(path, 'wx');
  try {
    writeAll(io, fd, [bytes], 0);
  } finally {
    io.close(fd);
  }
}

/**
 * Creates the log directory `dir` and the directories above it that are missing, and makes each new
 * entry durable (an fsync of the directory that holds it): a log directory made and never fsynced in
 * its parent can vanish in a power loss with records whose flush() resolved. A parent that cannot be
 * opened to be fsynced (read permission missing) is left as it is.
 */
export function makeLogDir(io: FileIO, dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !io.exists(d) && dirname(d) !== d; d = dirname(d)) missing.push(d);
  io.mkdirp(dir);
  for (const d of missing) {
    let fd: number;
    try {
      fd = io.open(dirname(d), 'dir');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES' || (e as NodeJS.ErrnoException).code === 'EPERM') continue;
      throw e;
    }
    try {
      io.fsync(fd);
    } finally {
      io.close(fd);
    }
  }
}

/**
 * mkdir -p, one directory at a time. Node's `mkdirSync(dir, { recursive: true })` loops without end
 * where mkdir answers ENOENT under a parent that exists (under /proc, say); here that ENOENT is the error.
 */
function mkdirp(dir: string): void {
  try {
    fs.mkdirSync(dir);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true) return;
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir || fs.existsSync(parent)) throw e;
  }
  mkdirp(dirname(dir));
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) throw e;
  }
}
