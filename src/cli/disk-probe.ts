/**
 * What the disk under a directory can do, measured the way the writer uses it, for `reactive-log
 * bench`: small writes each followed by fdatasync (the most durable acknowledgements per second one
 * writer gets), and 1 MiB writes to the page cache (the most bytes per second it takes). Each probe
 * runs for a given time in a file of its own, removed afterwards. The probes give the event loop a
 * turn every 100 ms, so that a signal handler can run and ask them to stop (`stopped`): they then
 * throw ProbeStopped.
 */
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface DiskLimits {
  /** fdatasyncs per second of 104-byte appends, one at a time. */
  readonly fsyncsPerSec: number;
  /** The median time of one such write and fdatasync, µs. */
  readonly fsyncP50Us: number;
  /** Bytes per second of 1 MiB writes without fsync (the page cache), appended. */
  readonly bufferedBytesPerSec: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? NaN;
}

/** Thrown by probeDisk when `stopped()` says so. */
export class ProbeStopped extends Error {}

/** How often the probes give the event loop a turn. */
const YIELD_MS = 100;

/** Runs `step` for about `ms` in a fresh file under `dir`; returns how many steps ran and each one's time. */
async function timed(dir: string, name: string, ms: number, stopped: () => boolean, step: (fd: number) => void): Promise<{ count: number; elapsedMs: number; times: number[] }> {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  const times: number[] = [];
  const t0 = performance.now();
  let yielded = t0;
  try {
    for (;;) {
      const a = performance.now();
      step(fd);
      const b = performance.now();
      times.push(b - a);
      if (b - t0 >= ms) return { count: times.length, elapsedMs: b - t0, times };
      if (b - yielded >= YIELD_MS) {
        await new Promise<void>((r) => setImmediate(r));
        yielded = performance.now();
      }
      if (stopped()) throw new ProbeStopped('stopped');
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}

export async function probeDisk(dir: string, ms: number, stopped: () => boolean = () => false): Promise<DiskLimits> {
  const small = Buffer.alloc(104, 0x61);
  const big = Buffer.alloc(1024 * 1024, 0x62);
  const sync = await timed(dir, 'probe-fsync', ms, stopped, (fd) => {
    writeSync(fd, small);
    fdatasyncSync(fd);
  });
  const buffered = await timed(dir, 'probe-buffered', Math.min(ms, 1000), stopped, (fd) => void writeSync(fd, big));
  return {
    fsyncsPerSec: sync.count / (sync.elapsedMs / 1000),
    fsyncP50Us: median(sync.times) * 1000,
    bufferedBytesPerSec: (buffered.count * big.length) / (buffered.elapsedMs / 1000),
  };
}
