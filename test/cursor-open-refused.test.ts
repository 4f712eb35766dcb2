/**
 * A transactional open that is refused leaves the cursor file as it was: a cursor that never
 * committed, which the open moves to the log start because retention passed it, is written there
 * only once the open succeeds. (A refused open wrote it there, and the cursor then counted as
 * committed: once retention passed it again, the next open failed with ERR_POSITION_EXPIRED instead
 * of starting at the oldest record.)
 */
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { suite, tempDir, waitFor, rejectsWith } from './kit.js';
import { withFaults } from './faults.js';

const test = suite('cursor-open-refused');

test('an open refused after following the log start leaves the never-committed cursor file untouched', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 4096 });
  p.append('rec-0');
  await p.flush();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('fresh') });
  await c.close(); // created at 0, nothing committed
  // In several frames, so in several segments: retention by bytes alone keeps the newest sealed one.
  const appendMany = async (): Promise<void> => {
    for (let i = 0; i < 200; i++) {
      p.append(`rec-${i}-${'x'.repeat(60)}`);
      if (i % 20 === 19) await p.flush();
    }
  };
  await appendMany();
  await waitFor(() => p.logStartOffset > 0, 'retention to delete the first segment');
  const cursorFile = join(logDir, 'cursors', 'client.fresh.cursor');
  const before = readFileSync(cursorFile);
  const startSegment = readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort()[0]!;
  // The seek to the log start fails: the open is refused.
  const plan = { rules: [{ op: 'open' as const, path: `${startSegment.replace('.', '\\.')}$`, thread: 'main' as const, nth: 1, effect: { errno: 'EIO' } }] };
  await withFaults(plan, () => rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('fresh') }), 'ERR_IO'));
  assert.ok(readFileSync(cursorFile).equals(before), 'the refused open changed the cursor file');
  // Retention passes the cursor again: it still never committed, so the open follows the log start.
  const start = p.logStartOffset;
  await appendMany();
  await waitFor(() => p.logStartOffset > start, 'retention to move the log start again');
  const d = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('fresh') });
  assert.is(d.committedOffset, p.logStartOffset);
  await d.close();
  await p.close();
});

test.run();
