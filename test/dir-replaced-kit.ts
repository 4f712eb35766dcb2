/**
 * The logs of the consumer-dir-replaced-* tests: a consumer's log and another one beside it, and the
 * replacement of the first by the second at its path (renamed away, the other renamed in).
 */
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { Producer } from '../dist/index.js';
import { tempDir } from './kit.js';

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
