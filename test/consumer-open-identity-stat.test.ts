/**
 * The consumer keeps the log directory's identity (device, inode) from its open, and each wait on
 * the files checks it: another directory at the path is another log (ERR_IO). When the stamp taken
 * for that identity failed at the open, the consumer opened anyway with no identity, and a directory
 * replaced later went unnoticed: it read on in the other log from this one's offsets. A failed stamp
 * of the directory at the open now fails the open with ERR_IO, as every other read of it there does,
 * leaving the cursor free; an open that succeeds always notices a replaced directory.
 */
import * as assert from 'uvu/assert';
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, LogError, Producer } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';
import { guarded } from './pool-kit.js';
import { withFaults } from './faults.js';

const test = suite('consumer-open-identity-stat');

async function writeLog(logDir: string, prefix: string, n: number): Promise<void> {
  const p = await Producer.open({ logDir });
  for (let i = 0; i < n; i++) p.append(`${prefix}${i}`);
  await p.flush();
  await p.close();
}

test('EIO at each stamp of the directory in the open: ERR_IO, or a consumer that notices the directory replaced', async () => {
  let opened = 0;
  let failed = 0;
  for (let nth = 1; nth <= 10; nth++) {
    const root = tempDir();
    const logDir = join(root, 'log');
    const aside = join(root, 'other');
    try {
      await writeLog(logDir, 'a', 3);
      await writeLog(aside, 'b', 3); // as long as the first: no read past its end before the next wait
      const r = await withFaults({ rules: [{ op: 'stampPath', thread: 'main', nth, effect: { errno: 'EIO' } }] },
        () => Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') }).then((c) => c, (e: unknown) => e));
      if (!(r instanceof Consumer)) {
        failed++;
        assert.ok(r instanceof LogError, `stamp ${nth}: a plain error: ${String((r as Error)?.stack ?? r)}`);
        assert.is(r.code, 'ERR_IO', `stamp ${nth}: ${r.message}`);
        const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') });
        await again.close();
        continue;
      }
      opened++;
      const c = r;
      const seen: string[] = [];
      const run = c.blockingProcess(null, (msg) => { seen.push(Buffer.from(msg.data).toString()); return 'commit' as const; });
      run.catch(() => undefined);
      await waitFor(() => seen.length === 3, `stamp ${nth}: the 3 records of the first log`);
      // Whole directories moved: no look in between finds the old directory half emptied.
      renameSync(logDir, join(root, 'gone'));
      renameSync(aside, logDir);
      const p = await Producer.open({ logDir });
      p.append('b3');
      await p.flush();
      const out = await guarded(run.then(() => 'resolved', (e: unknown) => e));
      await p.close();
      assert.equal(seen, ['a0', 'a1', 'a2'], `stamp ${nth}: no record of the other log is handed out as if it followed`);
      assert.is.not(out, 'stuck', `stamp ${nth}: still waiting after the directory was replaced`);
      assert.is((out as LogError).code, 'ERR_IO', `stamp ${nth}: ${String(out)}`);
      await c.close().catch(() => undefined);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  assert.ok(failed >= 1 && opened >= 1, `opened ${opened}, failed ${failed}`);
});

test.run();
