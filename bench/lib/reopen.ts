/**
 * Reopen after kill -9. A child (bench/fixtures/fill-until-killed.mjs) fills the log with
 * SyncPolicy.never(), says so, keeps appending and is SIGKILLed mid-append; then a fresh plain-node
 * process (bench/fixtures/time-open.mjs) times Producer.open (recovery included) and closes again,
 * as a restart would. Repeated: each later child opens the same log, appends `moreBytes`, and is
 * killed the same way. Then opens after a clean close are timed the same way.
 *
 * The open is not timed in this process: it runs under `--import tsx`, which the writer worker
 * inherits (execArgv), adding tens of ms to every Producer.open that have nothing to do with the library.
 */
import { fork } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inChild, nowMs, sleep, trackChild } from './run.js';
import { segmentFiles } from './workloads.js';

const FILL = fileURLToPath(new URL('../fixtures/fill-until-killed.mjs', import.meta.url));
const TIME_OPEN = fileURLToPath(new URL('../fixtures/time-open.mjs', import.meta.url));
/** How long the child keeps appending after it said "filled", before the SIGKILL. */
const KILL_AFTER_MS = 25;
/** A child that does not report within this long has failed. */
const CHILD_TIMEOUT_MS = 300_000;

export interface KillOpen {
  readonly openMs: number;
  /** Size of the last (active) segment file when the open started: recovery reads and syncs it. */
  readonly activeSegmentBytes: number;
  /** Records the child reported written before the kill, and what the reopened log holds. */
  readonly writtenBeforeKill: number;
  readonly recoveredNextOffset: number;
  readonly truncatedBytes: number;
}

export interface ReopenRuns {
  readonly afterKill: KillOpen[];
  readonly afterCleanCloseMs: number[];
  readonly fillSeconds: number;
}

/** Runs the child until it has written `bytes` more, lets it append on for a moment, SIGKILLs it. */
async function fillAndKill(dir: string, bytes: number): Promise<number> {
  const child = fork(FILL, [dir, String(bytes)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  trackChild(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const written = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fill child sent nothing within ${CHILD_TIMEOUT_MS} ms`)), CHILD_TIMEOUT_MS);
      child.once('message', (m: { type: string; writtenOffset: number }) => { clearTimeout(timer); resolve(m.writtenOffset); });
      child.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`fill child exited early (code ${code}, signal ${sig})`)); });
    });
    await sleep(KILL_AFTER_MS);
    return written;
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

interface TimedOpen {
  readonly openMs: number;
  readonly nextOffset: number;
  readonly truncatedBytes: number;
}

function timedOpen(dir: string): Promise<TimedOpen> {
  return inChild<TimedOpen>(TIME_OPEN, [dir], { timeoutMs: CHILD_TIMEOUT_MS });
}

export async function reopenAfterKill(dir: string, warmDir: string, fillBytes: number, moreBytes: number, kills: number, cleanReps: number): Promise<ReopenRuns> {
  await timedOpen(warmDir); // warm-up: the library's files into the page cache

  const afterKill: KillOpen[] = [];
  let fillSeconds = 0;
  for (let k = 0; k < kills; k++) {
    const t0 = nowMs();
    const writtenBeforeKill = await fillAndKill(dir, k === 0 ? fillBytes : moreBytes);
    if (k === 0) fillSeconds = (nowMs() - t0) / 1000;
    const active = segmentFiles(dir).pop();
    const activeSegmentBytes = active === undefined ? 0 : statSync(active).size;
    const o = await timedOpen(dir);
    afterKill.push({
      openMs: o.openMs,
      activeSegmentBytes,
      writtenBeforeKill,
      recoveredNextOffset: o.nextOffset,
      truncatedBytes: o.truncatedBytes,
    });
    if (o.nextOffset < writtenBeforeKill) {
      throw new Error(`reopen lost records: ${writtenBeforeKill} were written before the kill, the log holds ${o.nextOffset}`);
    }
  }

  const afterCleanCloseMs: number[] = [];
  for (let r = 0; r < cleanReps; r++) {
    afterCleanCloseMs.push((await timedOpen(dir)).openMs);
  }
  return { afterKill, afterCleanCloseMs, fillSeconds };
}
