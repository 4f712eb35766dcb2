/**
 * In the producer's process every record below the published end must be in the files: a segment
 * holding published records whose header is found not whole (damage: here cut to 10 bytes) is
 * ERR_LOG_CORRUPT, in every iteration that reaches it: never an iteration that ends early after the
 * first one reported it, or a tail() that spins without a record.
 */
import * as assert from 'uvu/assert';
import { statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';
import { segmentFiles } from './read-kit.js';

const test = suite('reader-published-short-header');

test('published records in a segment whose header is cut: ERR_LOG_CORRUPT in every iteration, not an early end after the first', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024 });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const watcher = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    p.append('first');
    await waitFor(() => [...c.iter()].length === 1, 'the first record read');
    const n = 40;
    for (let i = 0; i < n; i++) p.append(`rec-${i}-${'x'.repeat(100)}`);
    await waitFor(() => segmentFiles(logDir).length >= 2, 'the log rolls');
    // The writer rolls after the frame that reaches fileRollSize: append until the newest segment holds a record.
    let seen = 0;
    let total = n + 1;
    const newestPath = (): string => join(logDir, segmentFiles(logDir).at(-1)!);
    for (;;) {
      p.append(`in-newest-${total}`);
      total++;
      await waitFor(() => { seen += [...watcher.iter()].length; return seen === total; }, 'every record written');
      if (statSync(newestPath()).size > 32) break;
    }
    const newest = segmentFiles(logDir).at(-1)!;
    truncateSync(join(logDir, newest), 10);
    // Every iteration reports it: a second one after the error, too, never an early end.
    const outcome = (): string => {
      try {
        return `${Array.from(c.iter()).length} records`;
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    const first = outcome();
    assert.is(first === 'ERR_LOG_CORRUPT' ? first : outcome(), 'ERR_LOG_CORRUPT', 'the first iteration');
    assert.is(outcome(), 'ERR_LOG_CORRUPT', 'the next iteration');
  } finally {
    await c.close();
    await watcher.close();
    await p.close().catch(() => undefined);
  }
});

test.run();
