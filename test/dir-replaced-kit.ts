/**
 * The logs of the consumer-dir-replaced-* tests: a consumer's log and another one beside it, and the
 * replacement of the first by the second at its path (renamed away, the other renamed in).
 */
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, type Consumer } from '../dist/index.js';
import { tempDir, waitFor } from './kit.js';

/**
 * How a test log is laid out: `roll`, a segment per record (records of about 1.1 KB, a roll size of
 * 1 KiB); `frameEach`, a frame per record in one segment; neither, records `${tag}${i}` appended at
 * once.
 */
export interface LogShape { readonly roll?: boolean; readonly frameEach?: boolean }

/** A closed log at `dir` of `n` records whose text starts `${tag}${i}`. */
export async function makeLog(dir: string, tag: string, n: number, shape: LogShape = {}): Promise<void> {
  const roll = shape.roll === true;
  const p = await Producer.open({ logDir: dir, ...(roll ? { fileRollSize: 1024 } : {}) });
  for (let i = 0; i < n; i++) {
    if (!roll && shape.frameEach !== true) {
      p.append(`${tag}${i}`);
      continue;
    }
    p.append(`${tag}${i} ${'x'.repeat(roll ? 1100 : 10)}`);
    await p.flush();
  }
  await p.close();
}

/** The directories of one test: `logDir` (the consumer's) and `other`, under a new `root`. */
export interface TwoLogs { readonly root: string; readonly logDir: string; readonly other: string }

/** A new root with a log of `a` records 'a<i>' at `logDir` and one of `b` records 'b<i>' at `other`. */
export async function twoLogs(a: number, b: number, shapeA: LogShape = {}, shapeB: LogShape = shapeA): Promise<TwoLogs> {
  const root = tempDir();
  const logs = { root, logDir: join(root, 'log'), other: join(root, 'other') };
  await makeLog(logs.logDir, 'a', a, shapeA);
  await makeLog(logs.other, 'b', b, shapeB);
  return logs;
}

/** The other log takes the consumer's log's path; the consumer's log moves to `root/away`. */
export function replaceLog(logs: TwoLogs): void {
  renameSync(logs.logDir, join(logs.root, 'away'));
  renameSync(logs.other, logs.logDir);
}

/** A processing call held at a record (holdAt): what it handed out, and how to let it go on. */
export interface HeldCall {
  /** The first two characters of each record handed out, in order. */
  readonly seen: string[];
  readonly run: Promise<unknown>;
  /** Lets the held record's handler return (again: nothing). */
  release(): void;
  /**
   * Releases the held record and waits until the call ended, or (`orMore`) handed out another
   * record; returns its failure (null when it resolved or is still running).
   */
  finish(orMore: boolean): Promise<unknown>;
}

/**
 * Starts a processing call of `c` (blocking or nonblocking, every record) whose handler commits each
 * record and holds its `n`th until released, and waits until it holds it: the directory can then be
 * replaced while a record is handled.
 */
export async function holdAt(c: Consumer, n: number, mode: 'blocking' | 'nonblocking' = 'blocking'): Promise<HeldCall> {
  const seen: string[] = [];
  let release = (): void => undefined;
  const held = new Promise<void>((resolve) => { release = resolve; });
  const handler = async (msg: { data: Uint8Array }): Promise<'commit'> => {
    seen.push(Buffer.from(msg.data).toString().slice(0, 2));
    if (seen.length === n) await held;
    return 'commit';
  };
  const run = mode === 'blocking' ? c.blockingProcess(null, handler) : c.nonblockingProcess(null, handler);
  // Observed by the test (finish, rejectsWith); a call that ends before it holds record n is this one's failure.
  let early: { error: unknown } | null = null;
  run.then(() => { early ??= { error: new Error(`the call ended after ${seen.length} records, before holding record ${n}`) }; }, (e: unknown) => { early ??= { error: e }; });
  await waitFor(() => seen.length === n || early !== null, `the consumer to hold its record ${n}`);
  if (seen.length < n && early !== null) throw (early as { error: unknown }).error;
  const finish = async (orMore: boolean): Promise<unknown> => {
    let failure: unknown = null;
    let ended = false;
    run.then(() => { ended = true; }, (e: unknown) => { failure = e; ended = true; });
    release();
    await waitFor(() => ended || (orMore && seen.length > n), orMore ? 'the call to end, or to hand out another record' : 'the call to end');
    return failure;
  };
  return { seen, run, release: () => release(), finish };
}
