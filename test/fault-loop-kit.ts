/**
 * What the fault loops (fault-loop*.test.ts) share: a bound on every call (a hang fails the run), a
 * coded-LogError check of each failure, the census of a fault-free run's file calls, where a fault
 * fired, and the dead letters of a directory.
 */
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { Consumer, ConsumerStyle, LogError, Whence, decodeDeadLetter } from '../dist/index.js';
import { readTrace, type FaultOp } from './faults.js';

/** How long any call of a loop may take before the run fails as a hang. */
export const HANG_MS = 30_000;

/** `p`, or a rejection after HANG_MS naming `what`. */
export async function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} hung for ${HANG_MS} ms`)), HANG_MS); });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn` (bounded); a failure must be a LogError with one of `codes`, and is listed in `errors`. False when it failed. */
export async function faulted(fn: () => Promise<unknown>, where: string, errors: string[], codes: readonly string[]): Promise<boolean> {
  try {
    await bounded(fn(), where);
    return true;
  } catch (e) {
    if (!(e instanceof LogError)) throw new Error(`${where}: a fault surfaced as a plain error, not a LogError: ${String((e as Error)?.stack ?? e)}`);
    assert.ok(codes.includes(e.code), `${where}: unexpected code ${e.code}: ${e.message}`);
    errors.push(`${where}: ${e.code} ${e.message.slice(0, 120)}`);
    return false;
  }
}

/** The call where the trace's first fault fired (thread, op, file, its number in its thread), or 'nothing'. */
export function describeFired(trace: string): string {
  const lines = readTrace(trace);
  const i = lines.findIndex((l) => l.fired);
  if (i < 0) return 'nothing';
  const l = lines[i]!;
  return `${l.thread} ${l.op} ${l.path.split('/').pop()} (call ${lines.slice(0, i).filter((x) => !x.fired && x.thread === l.thread).length + 1} of its thread)`;
}

/** The file calls of a fault-free run, by thread and op, from its trace. */
export class Census {
  private readonly counts = new Map<string, number>();

  constructor(trace: string) {
    for (const l of readTrace(trace)) this.counts.set(`${l.thread} ${l.op}`, (this.counts.get(`${l.thread} ${l.op}`) ?? 0) + 1);
  }

  /** How many calls of `ops` (all with '*') `thread` made. */
  calls(thread: string, ops: readonly FaultOp[] | '*'): number {
    let n = 0;
    for (const [k, v] of this.counts) {
      const [t, op] = k.split(' ');
      if (t === thread && (ops === '*' || ops.includes(op as FaultOp))) n += v;
    }
    return n;
  }
}

/** The source offsets of the dead letters in `deadLetterDir`, in log order ([] when it holds no log). */
export async function deadLetterOffsets(deadLetterDir: string): Promise<number[]> {
  if (!existsSync(deadLetterDir)) return [];
  const d = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...d.iter()].map((m) => decodeDeadLetter(m.data).offset);
  } finally {
    await d.close();
  }
}
