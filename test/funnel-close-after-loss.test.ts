/**
 * remote.close() called after the connection ended with answers outstanding: the appends it cut off
 * were not acknowledged, so close() rejects with the error that ended the connection (docs/funnel.md:
 * "When the connection ends before every answer came ... close() rejects with the error that ended
 * it"), whether close() was waiting then or is called afterwards. A connection that ended with
 * nothing waiting, or a handle the caller destroyed, still closes cleanly.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { settle } from './funnel-kit.js';
import { rejectsWith, suite, tempDir } from './kit.js';

const test = suite('funnel-close-after-loss');

test('close() after the owner went away with appends unanswered rejects with ERR_LOG_CLOSED', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const remote = await Producer.connect({ logDir, maxInFlightBytes: 64 * 1024 });
  const sent = Array.from({ length: 20_000 }, (_, i) => remote.append(`x-${i}-${'p'.repeat(90)}`));
  const settled = settle(sent);
  await sent[0];
  await p.close();
  const outcomes = await settled;
  assert.ok(outcomes.some((o) => !o.ok), 'some appends were cut off');
  await rejectsWith(remote.close(), 'ERR_LOG_CLOSED');
  await rejectsWith(remote.close(), 'ERR_LOG_CLOSED'); // the same answer twice
});

test('close() after the owner went away with nothing waiting resolves; so does close() after destroy()', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const idle = await Producer.connect({ logDir });
  await idle.append('answered');
  const destroyed = await Producer.connect({ logDir });
  const cut = destroyed.append('cut');
  destroyed.destroy();
  await rejectsWith(cut, 'ERR_LOG_CLOSED');
  await destroyed.close();
  await p.close();
  await rejectsWith(idle.append('late'), 'ERR_LOG_CLOSED');
  await idle.close();
});

test.run();
