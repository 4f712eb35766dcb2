/**
 * A log directory replaced by another log (renamed into its path) while Consumer.open runs: the
 * consumer took the directory's device and inode first, but the open's own reads (the start's seek,
 * a start by time, the log's bounds) opened segment files by name unchecked, so the consumer then
 * handed out the other log's records from the old log's offsets (committing them to the old log's
 * cursor). The open fails with ERR_IO naming the directory instead, and leaves no cursor file it
 * created in the other log.
 */
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence, type Message } from '../dist/index.js';
import { twoLogs } from './dir-replaced-kit.js';
import { suite } from './kit.js';

const test = suite('consumer-dir-replaced-opening');
const SWAP_IO = fileURLToPath(new URL('./fixtures/swap-dir-at-open-io.mjs', import.meta.url));

const starts = {
  'a cursor': ConsumerStyle.clientTx('c'),
  'Whence.oldest()': ConsumerStyle.nonTx(Whence.oldest()),
  'Whence.position(3)': ConsumerStyle.nonTx(Whence.position(3)),
  'Whence.timestamp(1)': ConsumerStyle.nonTx(Whence.timestamp(1)),
};

for (const [name, style] of Object.entries(starts)) {
  test(`start at ${name}: replaced while the consumer opens, ERR_IO, no record of the other log`, async () => {
    const { root, logDir, other } = await twoLogs(6, 10);
    if (name === 'a cursor') {
      const c0 = await Consumer.open({ logDir, style });
      assert.is((await c0.nonblockingProcess(3, () => 'commit')).committed, 3);
      await c0.close();
    }
    Object.assign(process.env, {
      REACTIVE_LOG_TEST_FILE_IO: SWAP_IO, REACTIVE_LOG_SWAP_DIR: logDir, REACTIVE_LOG_SWAP_AWAY: join(root, 'away'), REACTIVE_LOG_SWAP_OTHER: other,
    });
    let c: Consumer | null = null;
    const seen: string[] = [];
    let failure: unknown = null;
    try {
      c = await Consumer.open({ logDir, style });
      await c.nonblockingProcess(null, (m: Message) => {
        seen.push(Buffer.from(m.data).toString());
        return 'commit';
      });
    } catch (e) {
      failure = e;
    } finally {
      for (const k of ['REACTIVE_LOG_TEST_FILE_IO', 'REACTIVE_LOG_SWAP_DIR', 'REACTIVE_LOG_SWAP_AWAY', 'REACTIVE_LOG_SWAP_OTHER']) delete process.env[k];
      await c?.close().catch(() => undefined);
    }
    assert.ok(seen.every((s) => s.startsWith('a')), `no record of the other log: ${seen.join(',')}`);
    assert.is((failure as { code?: string } | null)?.code, 'ERR_IO', String(failure));
    assert.match(String(failure), logDir);
    // The refused open leaves the other log as it was: no cursor of its own made there.
    assert.not.ok(readdirSync(logDir, { recursive: true }).some((f) => String(f).includes('client.c')), 'no cursor file left in the other log');
    if (name === 'a cursor') assert.ok(existsSync(join(root, 'away', 'cursors', 'client.c.cursor')), 'the old log keeps its cursor');
  });
}

test.run();
