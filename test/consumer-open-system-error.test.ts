/**
 * A system error in a file call of a transactional consumer's open (here the stamp of the log
 * directory, taken to list its segments once the cursor is locked) rejects Consumer.open with a coded
 * LogError (ERR_IO), never a plain Error, and leaves the cursor free for the next open.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, LogError } from '../dist/index.js';
import { suite, logOf } from './kit.js';
import { withFaults } from './faults.js';

const test = suite('consumer-open-system-error');

test('EIO at each of the first stamps of the directory: ERR_IO or an open, never a plain Error', async () => {
  const logDir = await logOf(5);
  let failed = 0;
  for (let nth = 1; nth <= 8; nth++) {
    const r = await withFaults({ rules: [{ op: 'stampPath', thread: 'main', nth, effect: { errno: 'EIO' } }] },
      () => Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') }).then((c) => c, (e: unknown) => e));
    if (r instanceof Consumer) {
      await r.close();
      continue;
    }
    failed++;
    assert.ok(r instanceof LogError, `stamp ${nth}: a plain error: ${String((r as Error)?.stack ?? r)}`);
    assert.is(r.code, 'ERR_IO', `stamp ${nth}: ${r.message}`);
  }
  assert.ok(failed >= 1, 'no open met the fault');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') });
  assert.is(c.committedOffset, 0);
  await c.close();
});

test.run();
