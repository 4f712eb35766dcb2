/**
 * ctx.state in a pool handler is the state committed with the cursor (set by an earlier call in the
 * consumer's thread), handed to each record as a copy: bytes changed in place reach neither another
 * record nor the committed state.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf } from './kit.js';

const test = suite('pool state');
const handler = fileURLToPath(new URL('./fixtures/pool-calls-handler.mjs', import.meta.url));

test('a pool handler sees the state committed with the cursor (ctx.state)', async () => {
  const logDir = await logOf(['rec-0', 'rec-1', 'state-2', 'scribble-3', 'state-4', 'state-5'], POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('st') });
  await c.nonblockingProcess(2, (_m, ctx) => { ctx.setState('total=2'); return 'commit'; });
  const s = await guarded(c.nonblockingProcess(null, handler, { workers: 1 }));
  const after = Buffer.from(c.state ?? new Uint8Array()).toString();
  await c.close();
  assert.equal(s, { committed: 4, skipped: 0, retried: 0, stoppedBy: 'end' });
  const seen = [2, 4, 5].map((o) => readFileSync(join(logDir, `seen-state-${o}`), 'utf8'));
  assert.equal(seen, ['total=2', 'total=2', 'total=2'], 'ctx.state in the pool handler');
  assert.is(after, 'total=2', 'the committed state stays');
});

test('without a state, ctx.state in a pool handler is null', async () => {
  const logDir = await logOf(['state-0', 'state-1'], POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('none') });
  const s = await guarded(c.nonblockingProcess(null, handler, { workers: 1 }));
  await c.close();
  assert.equal(s, { committed: 2, skipped: 0, retried: 0, stoppedBy: 'end' });
  assert.equal([0, 1].map((o) => readFileSync(join(logDir, `seen-state-${o}`), 'utf8')), ['null', 'null']);
});

test.run();
