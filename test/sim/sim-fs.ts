/**
 * A crash simulator: an in-memory FileIO that knows which bytes and which directory entries are
 * durable, and can produce the states a power loss may leave behind.
 *
 * The model (conservative, after reliability.md and the ALICE/CrashMonkey papers):
 * - A file's bytes are durable up to its last fsync/fdatasync; every write or truncate after it is
 *   pending. At a crash, each pending write independently vanishes, lands whole, lands as a prefix
 *   (torn), lands as zeros, or lands as garbage; a pending truncate happens or not.
 * - Directory entries (create, unlink, rename, link, mkdir) are durable only after an fsync of their
 *   directory. Pending ones are journaled in order: a crash keeps a prefix of them.
 * - A crash is triggered after the Nth mutating call (`crashAfter`); from then on every call throws
 *   SimCrash, so whatever the code under test does afterwards has no effect. The state at the crash
 *   is what `crashState` works from.
 */
import { basename, dirname } from 'node:path';
import type { FileIO, OpenFlags } from '../../src/storage/file-io.js';

export class SimCrash extends Error {
  constructor() {
    // Thrown at every crash point of every workload: a stack would cost more than the crash.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super('simulated power loss');
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}

type Pending = { kind: 'write'; at: number; bytes: Uint8Array } | { kind: 'truncate'; size: number };
type DirOp =
  | { kind: 'link'; path: string; node: Inode }
  | { kind: 'unlink'; path: string }
  | { kind: 'rename'; from: string; to: string };

class Inode {
  data: Uint8Array = new Uint8Array(0);
  size = 0;
  durable: Uint8Array = new Uint8Array(0);
  pending: Pending[] = [];
  constructor(readonly isDir: boolean) {}

  write(at: number, bytes: Uint8Array): void {
    const end = at + bytes.byteLength;
    if (end > this.data.byteLength) {
      const grown = new Uint8Array(Math.max(end, this.data.byteLength * 2));
      grown.set(this.data.subarray(0, this.size));
      this.data = grown;
    }
    if (at > this.size) this.data.fill(0, this.size, at);
    this.data.set(bytes, at);
    this.size = Math.max(this.size, end);
  }

  truncate(size: number): void {
    if (size > this.size) this.write(this.size, new Uint8Array(size - this.size));
    else this.size = size;
  }

  contents(): Uint8Array {
    return this.data.slice(0, this.size);
  }
}

/** How a crash treats what was not yet durable. */
export type CrashMode = 'lose-all' | 'keep-all' | 'random';

/** A seeded generator of floats in [0, 1). */
export type Rand = () => number;

export class SimFS implements FileIO {
  private names = new Map<string, Inode>();
  private durableNames = new Map<string, Inode>();
  private dirOps: DirOp[] = [];
  private fds = new Map<number, { node: Inode; path: string }>();
  private nextFd = 3;
  /** Mutating calls made so far. */
  mutations = 0;
  /** Crash after this many mutating calls (Infinity: never). */
  crashAfter = Infinity;
  crashed = false;
  /** A disk that lies: file fsyncs return but make nothing durable (the negative control). */
  ignoreFsync = false;

  constructor(root = '/sim') {
    const dir = new Inode(true);
    this.names.set(root, dir);
    this.durableNames.set(root, dir);
  }

  // ---- FileIO ----
  open(path: string, flags: OpenFlags): number {
    this.alive();
    let node = this.names.get(path);
    if ((flags === 'wx' || flags === 'lockx') && node !== undefined) throw errno('EEXIST', 'open', path);
    if ((node?.isDir === true) !== (flags === 'dir') && node !== undefined) throw errno('EFTYPE', 'open', path);
    if (node === undefined) {
      if (flags === 'r' || flags === 'r+' || flags === 'dir') throw errno('ENOENT', 'open', path);
      this.parentDir(path);
      node = new Inode(false);
      this.linkNode(path, node);
      this.mutated();
    } else if (flags === 'w') {
      node.truncate(0);
      node.pending.push({ kind: 'truncate', size: 0 });
      this.mutated();
    }
    const fd = this.nextFd++;
    this.fds.set(fd, { node, path });
    return fd;
  }

  close(fd: number): void {
    this.alive();
    const entry = this.fds.get(fd);
    if (entry === undefined) throw errno('EBADF', 'close', String(fd));
    this.fds.delete(fd);
    if (this.locks.get(entry.node) === fd) this.locks.delete(entry.node);
  }

  /** Which descriptor holds the lock of each locked file (an OFD lock goes with its descriptor). */
  private locks = new Map<Inode, number>();

  tryLock(fd: number): boolean {
    this.alive();
    const node = this.file(fd);
    const holder = this.locks.get(node);
    if (holder !== undefined && holder !== fd) return false;
    this.locks.set(node, fd);
    return true;
  }

  now(): number {
    return Date.now();
  }

  isSameFile(fd: number, path: string): boolean {
    this.alive();
    return this.names.get(path) === this.file(fd);
  }

  read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
    this.alive();
    const node = this.file(fd);
    const n = Math.max(0, Math.min(length, node.size - position));
    buf.set(node.data.subarray(position, position + n), offset);
    return n;
  }

  writev(fd: number, bufs: readonly Uint8Array[], position: number): number {
    this.alive();
    const node = this.file(fd);
    let total = 0;
    for (const b of bufs) total += b.byteLength;
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const b of bufs) { bytes.set(b, at); at += b.byteLength; }
    node.write(position, bytes);
    node.pending.push({ kind: 'write', at: position, bytes });
    this.mutated();
    return total;
  }

  fdatasync(fd: number): void {
    this.fsync(fd);
  }

  fsync(fd: number): void {
    this.alive();
    const entry = this.fds.get(fd);
    if (entry === undefined) throw errno('EBADF', 'fsync', String(fd));
    if (entry.node.isDir) {
      // Entries inside this directory become durable, in order; others stay pending.
      const rest: DirOp[] = [];
      for (const op of this.dirOps) {
        const where = op.kind === 'rename' ? dirname(op.to) : dirname(op.path);
        if (where === entry.path || (op.kind === 'rename' && dirname(op.from) === entry.path)) applyDirOp(this.durableNames, op);
        else rest.push(op);
      }
      this.dirOps = rest;
    } else if (!this.ignoreFsync) {
      entry.node.durable = entry.node.contents();
      entry.node.pending = [];
    }
    this.mutated();
  }

  ftruncate(fd: number, length: number): void {
    this.alive();
    const node = this.file(fd);
    node.truncate(length);
    node.pending.push({ kind: 'truncate', size: length });
    this.mutated();
  }

  fsize(fd: number): number {
    this.alive();
    return this.file(fd).size;
  }

  readdir(dir: string): string[] {
    this.alive();
    const node = this.names.get(dir);
    if (node === undefined) throw errno('ENOENT', 'readdir', dir);
    if (!node.isDir) throw errno('ENOTDIR', 'readdir', dir);
    const out: string[] = [];
    for (const p of this.names.keys()) if (dirname(p) === dir && p !== dir) out.push(basename(p));
    return out;
  }

  unlink(path: string): void {
    this.alive();
    if (!this.names.has(path)) throw errno('ENOENT', 'unlink', path);
    this.names.delete(path);
    this.dirOps.push({ kind: 'unlink', path });
    this.mutated();
  }

  rename(from: string, to: string): void {
    this.alive();
    if (!this.names.has(from)) throw errno('ENOENT', 'rename', from);
    this.parentDir(to);
    applyDirOp(this.names, { kind: 'rename', from, to });
    this.dirOps.push({ kind: 'rename', from, to });
    this.mutated();
  }

  link(existing: string, newPath: string): void {
    this.alive();
    const node = this.names.get(existing);
    if (node === undefined) throw errno('ENOENT', 'link', existing);
    if (this.names.has(newPath)) throw errno('EEXIST', 'link', newPath);
    this.parentDir(newPath);
    this.linkNode(newPath, node);
    this.mutated();
  }

  mkdirp(dir: string): void {
    this.alive();
    const missing: string[] = [];
    for (let d = dir; !this.names.has(d); d = dirname(d)) {
      if (d === dirname(d)) throw errno('ENOENT', 'mkdir', dir);
      missing.unshift(d);
    }
    for (const d of missing) this.linkNode(d, new Inode(true));
    if (missing.length > 0) this.mutated();
  }

  exists(path: string): boolean {
    this.alive();
    return this.names.has(path);
  }

  // ---- the crash ----

  /**
   * A new SimFS holding one state a power loss at this moment may leave: the durable entries plus a
   * prefix of the pending ones, each file's durable bytes plus its pending writes treated per `mode`.
   * Everything in the result is durable.
   */
  crashState(mode: CrashMode, rand: Rand): SimFS {
    const names = new Map(this.durableNames);
    const keepOps = mode === 'lose-all' ? 0 : mode === 'keep-all' ? this.dirOps.length : Math.floor(rand() * (this.dirOps.length + 1));
    for (let i = 0; i < keepOps; i++) applyDirOp(names, this.dirOps[i]!);
    const out = new SimFS();
    out.names.clear();
    out.durableNames.clear();
    const made = new Map<Inode, Inode>();
    for (const [path, node] of names) {
      let copy = made.get(node);
      if (copy === undefined) {
        copy = new Inode(node.isDir);
        if (!node.isDir) {
          copy.write(0, node.durable);
          for (const p of node.pending) applyPending(copy, p, mode, rand);
          copy.durable = copy.contents();
        }
        made.set(node, copy);
      }
      out.names.set(path, copy);
      out.durableNames.set(path, copy);
    }
    return out;
  }

  /**
   * Every file's path and bytes, for comparing two states. The bytes as latin1, one character a byte,
   * read in place: base64 of a copy of a copy cost a tenth of power-loss's CPU.
   */
  snapshot(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [path, node] of [...this.names].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      out.set(path, node.isDir ? '<dir>' : Buffer.from(node.data.buffer, node.data.byteOffset, node.size).toString('latin1'));
    }
    return out;
  }

  /**
   * Removes lock files: after a simulated power loss the process that held them is gone. The kernel
   * locks went with it (a new SimFS holds none), but the files still name this process, which is
   * alive, and readers that ask whether a producer is live read the files.
   */
  dropLocks(): void {
    for (const path of [...this.names.keys()]) {
      if (path.endsWith('.lock')) { this.names.delete(path); this.durableNames.delete(path); }
    }
  }

  /** The current bytes of a file (test inspection). */
  fileBytes(path: string): Uint8Array | null {
    const node = this.names.get(path);
    return node === undefined || node.isDir ? null : node.contents();
  }

  // ---- internals ----
  private alive(): void {
    if (this.crashed) throw new SimCrash();
  }

  private mutated(): void {
    this.mutations++;
    if (this.mutations >= this.crashAfter) {
      this.crashed = true;
      throw new SimCrash();
    }
  }

  private file(fd: number): Inode {
    const entry = this.fds.get(fd);
    if (entry === undefined) throw errno('EBADF', 'io', String(fd));
    if (entry.node.isDir) throw errno('EISDIR', 'io', entry.path);
    return entry.node;
  }

  private parentDir(path: string): void {
    const parent = this.names.get(dirname(path));
    if (parent === undefined || !parent.isDir) throw errno('ENOENT', 'open', path);
  }

  private linkNode(path: string, node: Inode): void {
    this.names.set(path, node);
    this.dirOps.push({ kind: 'link', path, node });
  }
}

function applyDirOp(names: Map<string, Inode>, op: DirOp): void {
  if (op.kind === 'link') names.set(op.path, op.node);
  else if (op.kind === 'unlink') names.delete(op.path);
  else {
    const node = names.get(op.from);
    if (node === undefined) return;
    names.delete(op.from);
    names.set(op.to, node);
  }
}

function applyPending(node: Inode, p: Pending, mode: CrashMode, rand: Rand): void {
  if (mode === 'lose-all') return;
  if (p.kind === 'truncate') {
    if (mode === 'keep-all' || rand() < 0.5) node.truncate(p.size);
    return;
  }
  if (mode === 'keep-all') { node.write(p.at, p.bytes); return; }
  const r = rand();
  const len = p.bytes.byteLength;
  if (r < 0.25) return; // never reached the disk
  if (r < 0.5) { node.write(p.at, p.bytes); return; } // whole
  if (r < 0.7) { node.write(p.at, p.bytes.subarray(0, Math.floor(rand() * len))); return; } // torn
  if (r < 0.85) { node.write(p.at, new Uint8Array(len)); return; } // zero-filled
  const junk = new Uint8Array(len); // garbage
  for (let i = 0; i < len; i++) junk[i] = Math.floor(rand() * 256);
  node.write(p.at, junk);
}

/**
 * A simulated system call's error. Without a stack: recovery probes for files that are not there
 * thousands of times a run, and capturing a stack for each cost a quarter of power-loss's CPU.
 */
function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return Object.assign(new Error(`${code}: ${syscall} ${path} (simulated)`), { code, syscall, path });
  } finally {
    Error.stackTraceLimit = limit;
  }
}
