/**
 * A pool worker lost mid-record in ways the other pool tests do not take (pool.test.ts: exit(1), a
 * handler that never answers): exit(0), a synchronous endless loop, an uncaught exception in the
 * worker. Each time the lane starts again at its first unfinished record: every record is handled to
 * its commit, the cursor passes them all once, and the summary counts each once.
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf } from './kit.js';

const test = suite('pool worker loss');
const handler = fileURLToPath(new URL('./fixtures/pool-loss-handler.mjs', import.meta.url));

/** The offsets the handler committed, over every worker thread, sorted. */
function seen(dir: string): number[] {
  const all: number[] = [];
  for (const f of readdirSync(dir).filter((n) => n.startsWith('seen-'))) {
    for (const l of readFileSync(join(dir, f), 'utf8').split('\n')) if (l !== '') all.push(Number(l));
  }
  return all.sort((a, b) => a - b);
}

for (const [kind, how] of [['exit0', 'exits with code 0'], ['spin', 'spins synchronously past timeoutMs'], ['uncaught', 'throws an uncaught exception']] as const) {
  test(`a worker that ${how} mid-record: the record comes again, nothing lost or committed twice`, async () => {
    const records = Array.from({ length: 40 }, (_, i) => (i === 5 ? `${kind}-${i}` : `rec-${i}`));
    const logDir = await logOf(records, POOL_LOG);
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('k') });
    const s = await guarded(c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 8, timeoutMs: 500 }));
    await c.close();
    assert.ok(existsSync(join(logDir, `${kind}-5`)), `record 5's worker was lost (${kind})`);
    assert.equal(s, { committed: 40, skipped: 0, retried: 0, stoppedBy: 'end' });
    assert.equal([...new Set(seen(logDir))], Array.from({ length: 40 }, (_, i) => i), 'every record handled to its commit');
    assert.is(c.committedOffset, 40);
  });
}

test.run();
