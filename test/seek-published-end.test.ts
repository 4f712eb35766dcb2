/**
 * An in-process consumer that starts at the log's published end (Whence.latest, Whence.position(end),
 * a transactional cursor at the durable end) while the writer is in the middle of writing the next
 * frame: the first read passes over the frames before the seek target and then loads the frame AT the
 * target, which is not published yet and not whole in the file. Only a frame below the published
 * limit must be whole and valid: one at or past it is judged as a tailing reader judges it (not
 * written yet), never as damage of a healthy log.
 *
 * The fault-driven cases make the partial frame last: the writer's writev of that frame moves only 100
 * bytes and the writev that finishes it is delayed (what a large pwritev looks like to a reader that
 * fstat()s the file while the kernel copies it in). The last case needs no faults: 8 MiB records.
 */
import * as assert from 'uvu/assert';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';
import { withFaults } from './faults.js';

const test = suite('seek to the published end');

const cases: Array<[string, () => ReturnType<typeof ConsumerStyle.nonTx>]> = [
  ['nonTx(Whence.latest())', () => ConsumerStyle.nonTx(Whence.latest())],
  ['nonTx(Whence.position(10))', () => ConsumerStyle.nonTx(Whence.position(10))],
  ['clientTx cursor committed at the durable end (10)', () => ConsumerStyle.clientTx('at-end')],
];

for (const [name, style] of cases) {
  test(`${name}, opened while the frame at the end is being written: no ERR_LOG_CORRUPT`, async () => {
    const logDir = tempDir();
    const arm = join(tempDir(), 'arm');
    const p = await withFaults({
      arm,
      rules: [
        { op: 'writev', path: '\\.seg$', thread: 'writer', nth: 1, effect: { short: 100 } },
        { op: 'writev', path: '\\.seg$', thread: 'writer', nth: 2, effect: { delayMs: 1500 } },
      ],
    }, () => Producer.open({ logDir, syncPolicy: SyncPolicy.never() }));
    for (let i = 0; i < 10; i++) {
      p.append(`small-${i}`);
      await p.flush(); // one frame each
    }
    if (name.startsWith('clientTx')) {
      const c0 = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('at-end') });
      await c0.nonblockingProcess(null, () => 'commit');
      assert.is(c0.committedOffset, 10);
      await c0.close();
    }
    const seg = join(logDir, readdirSync(logDir).find((n) => n.endsWith('.seg'))!);
    const before = statSync(seg).size;
    writeFileSync(arm, '');
    p.append(Buffer.alloc(4096, 7)); // record 10: its frame is written in two parts, 1.5 s apart
    await waitFor(() => statSync(seg).size > before, 'the first part of frame 10 in the file');
    assert.is(p.writtenOffset, 10, 'record 10 is not published yet');
    const c = await Consumer.open({ logDir, style: style() });
    let error: unknown = null;
    try {
      await c.nonblockingProcess(null, () => 'commit');
    } catch (e) {
      error = e;
    }
    await c.close();
    await p.flush();
    await p.close();
    assert.is(error, null, `the first read failed: ${(error as Error | null)?.message}`);
  });
}

test('no faults: Whence.latest opened while 8 MiB records are being written never reads as ERR_LOG_CORRUPT', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), maxTotalBytes: 256 * 1024 * 1024, fileRollSize: 64 * 1024 * 1024 });
  const big = Buffer.alloc(8 * 1024 * 1024, 1);
  const failures: string[] = [];
  for (let i = 0; i < 40; i++) {
    p.append(big);
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.latest()) });
    try {
      for (const _m of c.iter()) { /* nothing: the consumer stands at the end */ }
    } catch (e) {
      failures.push((e as Error).message);
    }
    await c.close();
    await p.flush();
  }
  await p.close();
  assert.equal(failures, [], `${failures.length} of 40 opens at the end failed`);
});

test.run();
