/** Shared test helpers: temporary directories the test owns, and waiting on conditions (never fixed sleeps). */
import { mkdtempSync, rmSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

const made: string[] = [];

/** A fresh temporary directory, removed by cleanupTempDirs() (call it in an `after` hook). */
export function tempDir(prefix = 'rlog-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function cleanupTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
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

/** A digest of every file's name and bytes in `dir`: equal digests mean the directory is byte-identical. */
export function dirDigest(dir: string): string {
  const h = createHash('sha256');
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return 'absent';
  }
  for (const n of names) {
    const p = join(dir, n);
    h.update(n);
    if (statSync(p).isFile()) h.update(readFileSync(p));
  }
  return h.digest('hex');
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
