/**
 * The log test/repair.test.ts and test/repair-edges.test.ts repair: N records of varying length in
 * segments of about 2 KiB, a clientTx cursor `billing` at its end.
 */
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { logOf } from './kit.js';

export const N = 400;
export const texts = Array.from({ length: N }, (_, i) => `record-${i}-${'x'.repeat(i % 40)}`);

/** A closed log of the N `texts` and cursor `billing` at its end; its segment files, in order. */
export async function logWithCursor(): Promise<{ logDir: string; segs: string[] }> {
  const logDir = await logOf(texts, { fileRollSize: 2048, indexIntervalBytes: 512, flushAfter: (i: number) => i % 7 === 6 });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(N, () => 'commit');
  await c.close();
  const segs = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort();
  assert.ok(segs.length >= 5, `${segs.length} segments`);
  return { logDir, segs };
}

/** A byte flipped in the middle of the third segment of `logDir` (which has at least four): damage repair cuts at. */
export function damageThirdSegment(logDir: string): void {
  const segs = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort();
  assert.ok(segs.length >= 4, `${segs.length} segments`);
  const victim = join(logDir, segs[2]!);
  const bytes = readFileSync(victim);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  writeFileSync(victim, bytes);
}
