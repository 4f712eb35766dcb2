/**
 * The test kit, shared by every test file:
 * - `suite(name)`: a uvu suite whose failures stay readable (readable-errors.ts) and that kills the
 *   children it forked and removes its temporary directories when it ends;
 * - `tempDir()`, `waitFor()` (a bounded poll of a condition: tests never sleep fixed times),
 *   `rejectsWith()`, `throwsWith()`, `prng()` (seeded, so a failing run replays);
 * - `logOf(records)` and `liveLogOf(records)`: a log of n records (or of the given ones), closed or with
 *   its producer left open; `readRecords(dir)` and `readTexts(dir)`: the log read back;
 * - `digestDir(dir)`: a digest of every file under a directory, for "left the directory untouched".
 * The kit loads the library (from dist/) only inside logOf, liveLogOf, readRecords and readTexts: a
 * test file that runs on src/ does not call them, and so loads one copy of the library.
 */
import { existsSync, mkdtempSync, rmSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { suite as uvuSuite, type Test } from 'uvu';
import type { Consumer, Message, Producer } from '../dist/index.js';
import { readableErrors } from './readable-errors.js';
import { killAllChildren } from './child.js';

const made: string[] = [];

/** A fresh temporary directory, removed when the suite ends. */
export function tempDir(prefix = 'rlog-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

function cleanupTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/**
 * A uvu suite named `name` whose tests rethrow a LogError as a readable Error, and which kills every
 * child process still running and removes every tempDir() after its last test.
 */
export function suite(name: string): Test {
  const test = readableErrors(uvuSuite(name));
  test.after(async () => {
    await killAllChildren();
    cleanupTempDirs();
  });
  return test;
}

/** Polls `cond` until it is true; fails after `timeoutMs` with `what` in the message. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * A digest of every file's path and bytes under `dir`, subdirectories included (cursors/ of a log):
 * equal digests mean the tree is byte-identical. 'absent' when `dir` does not exist.
 */
export function digestDir(dir: string): string {
  const h = createHash('sha256');
  const walk = (at: string, rel: string): boolean => {
    let names: string[];
    try {
      names = readdirSync(at).sort();
    } catch {
      return false;
    }
    for (const n of names) {
      const p = join(at, n);
      const r = rel === '' ? n : `${rel}/${n}`;
      const st = statSync(p);
      if (st.isDirectory()) {
        h.update(`d ${r}\0`);
        walk(p, r);
      } else {
        h.update(`f ${r} ${st.size}\0`);
        if (st.isFile()) h.update(readFileSync(p));
      }
    }
    return true;
  };
  return walk(dir, '') ? h.digest('hex') : 'absent';
}

/** Awaits a promise expected to reject with a LogError of `code`; returns the error. */
export async function rejectsWith(p: Promise<unknown> | (() => Promise<unknown>), code: string): Promise<Error & { code: string }> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    const err = e as Error & { code: string };
    if (err.code !== code) throw new Error(`expected ${code}, got ${err.code ?? 'no code'}: ${err.message}`);
    return err;
  }
  throw new Error(`expected a rejection with ${code}, got none`);
}

/** Calls `fn`, expecting it to throw a LogError of `code`; returns the error. */
export function throwsWith(fn: () => unknown, code: string): Error & { code: string } {
  try {
    fn();
  } catch (e) {
    const err = e as Error & { code: string };
    if (err.code !== code) throw new Error(`expected ${code}, got ${err.code ?? 'no code'}: ${err.message}`);
    return err;
  }
  throw new Error(`expected a throw with ${code}, got none`);
}

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with SEED=<n>. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface LogOfOptions {
  /** The log directory; a fresh tempDir() by default. */
  logDir?: string;
  /** Flushes after appending record i when this says so (smaller frames); the log is flushed at the end anyway. */
  flushAfter?: (i: number) => boolean;
  /** Producer options besides logDir; syncPolicy is SyncPolicy.always() unless given. */
  [option: string]: unknown;
}

/**
 * A log holding `records` (a count n means the texts `rec-0` .. `rec-${n - 1}`), flushed, with its producer
 * left open in this process.
 */
export async function liveLogOf(records: number | ReadonlyArray<string | Uint8Array>, options: LogOfOptions = {}): Promise<{ logDir: string; p: Producer }> {
  const { Producer, SyncPolicy } = await import('../dist/index.js');
  const { logDir = tempDir(), flushAfter, ...producerOptions } = options;
  const list = typeof records === 'number' ? Array.from({ length: records }, (_, i) => `rec-${i}`) : records;
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), ...producerOptions });
  for (const [i, r] of list.entries()) {
    p.append(r);
    if (flushAfter?.(i) === true) await p.flush();
  }
  await p.flush();
  return { logDir, p };
}

/** As liveLogOf, with the producer closed: the directory of a closed log holding `records`. */
export async function logOf(records: number | ReadonlyArray<string | Uint8Array>, options: LogOfOptions = {}): Promise<string> {
  const { logDir, p } = await liveLogOf(records, options);
  await p.close();
  return logDir;
}

/** Every record still stored in `logDir` with its offset, decoded as UTF-8, read by a nonTx consumer from the oldest. */
export async function readRecords(logDir: string): Promise<Array<{ offset: number; text: string }>> {
  const { Consumer, ConsumerStyle, Whence } = await import('../dist/index.js');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...c.iter()].map((m) => ({ offset: m.offset, text: Buffer.from(m.data).toString() }));
  } finally {
    await c.close();
  }
}

/** The offset a nonTx consumer opened at `Whence.timestamp(t)` hands out first, or null when it has none. */
export async function firstAtTime(logDir: string, t: number): Promise<number | null> {
  const { Consumer, ConsumerStyle, Whence } = await import('../dist/index.js');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.timestamp(t)) });
  try {
    const r = c.iter().next();
    return r.done === true ? null : r.value.offset;
  } finally {
    await c.close();
  }
}

/** The texts of readRecords(logDir), oldest first. */
export async function readTexts(logDir: string): Promise<string[]> {
  return (await readRecords(logDir)).map((r) => r.text);
}

/**
 * `names` and, recursively, their dependencies installed in `root`'s node_modules (flat, as npm lays
 * this repository's out): what a test copies beside a bundle or an install of dist/.
 */
export function installedClosure(root: string, names: readonly string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name) || !existsSync(join(root, 'node_modules', name, 'package.json'))) return;
    seen.add(name);
    const pkg = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) for (const dep of Object.keys(pkg[field] ?? {})) visit(dep);
  };
  for (const name of names) visit(name);
  return [...seen];
}

/**
 * Every file under `dir` (folders walked), with its size, mtime and a digest of its bytes: two
 * listings are equal when a call left the directory untouched.
 */
export function listing(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...listing(p).map((l) => `${n}/${l}`));
    else out.push(`${n} ${st.size} ${st.mtimeMs} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
  }
  return out;
}

/**
 * Every message a consumer opened with `open` hands out in one nonblocking call, each with its data
 * copied (it outlives the read buffer), then the consumer closed.
 */
export async function messagesOf(open: Parameters<typeof Consumer.open>[0]): Promise<Message[]> {
  const { Consumer: C } = await import('../dist/index.js');
  const c = await C.open(open);
  const out: Message[] = [];
  try {
    await c.nonblockingProcess(null, (m) => { out.push({ ...m, data: Buffer.from(m.data) }); return 'commit'; });
  } finally { await c.close(); }
  return out;
}
