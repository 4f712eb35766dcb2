/**
 * close(2) of the descriptor a cursor file was read through reports an error (EIO, as NFS may): the
 * slots were read whole and checked by their CRCs, and close releases the descriptor whatever it
 * reports, so the value read stands. Consumer.open and inspectLog go on; neither throws the raw
 * system error.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, inspectLog } from '../dist/index.js';
import { suite, logOf } from './kit.js';
import { withFaults } from './faults.js';

const test = suite('cursor-read-close-error');

const closeFails = { rules: [{ op: 'close' as const, path: 'client\\.r\\.cursor$', thread: 'main' as const, nth: 1, effect: { errno: 'EIO' } }] };

test('a failed close of the descriptor a cursor file was read through: Consumer.open and inspectLog read the cursor', async () => {
  const logDir = await logOf(5);
  const first = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('r') });
  await first.nonblockingProcess(2, (_m, ctx) => { ctx.setState('two'); return 'commit'; });
  await first.close();
  const c = await withFaults(closeFails, () => Consumer.open({ logDir, style: ConsumerStyle.clientTx('r') }));
  assert.is(c.committedOffset, 2);
  assert.is(Buffer.from(c.state!).toString(), 'two');
  const s = await c.nonblockingProcess(null, () => 'commit');
  assert.is(s.committed, 3);
  await c.close();
  const info = await withFaults(closeFails, () => inspectLog(logDir));
  assert.equal(info.cursors.map((x) => [x.id, x.committedOffset]), [['r', 5]]);
});

test.run();
