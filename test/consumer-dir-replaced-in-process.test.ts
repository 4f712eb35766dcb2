/**
 * A consumer in the producer's own process waits on the producer's shared memory, not on the files.
 * When its log directory is replaced by another log (the producer closed, the directory emptied and
 * another log renamed in its place) and a producer of this process opens the new log, the consumer
 * found that producer by path and read on in the new log's files from the old log's offsets, as if
 * nothing had happened. It fails with ERR_IO naming the directory, as a consumer reading the files does.
 */
import * as assert from 'uvu/assert';
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { holdAt, type HeldCall } from './dir-replaced-kit.js';
import { rejectsWith, suite, tempDir } from './kit.js';

const test = suite('consumer-dir-replaced-in-process');

test('a consumer of this process fails with ERR_IO when a producer of this process opens another log at its path', async () => {
  const root = tempDir();
  const logDir = join(root, 'log');
  const aside = join(root, 'new');
  // The other log's segments start at every record: one starts at offset 3, where the consumer reads on.
  const other = await Producer.open({ logDir: aside, fileRollSize: 1024 });
  for (let i = 0; i < 6; i++) {
    other.append(`b${i} ${'x'.repeat(1100)}`);
    await other.flush();
  }
  await other.close();

  const p1 = await Producer.open({ logDir });
  for (let i = 0; i < 3; i++) p1.append(`a${i}`);
  await p1.flush();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') });
  let call: HeldCall | null = null;
  let p2: Producer | null = null;
  try {
    call = await holdAt(c, 3); // at the last record of the old log
    await p1.close();
    for (const n of readdirSync(logDir)) rmSync(join(logDir, n), { recursive: true, force: true });
    renameSync(aside, logDir);
    p2 = await Producer.open({ logDir });
    p2.append('b6');
    await p2.flush();
    const failure = await call.finish(true);
    assert.equal(call.seen, ['a0', 'a1', 'a2'], 'no record of the other log is handed out as if it followed the old one');
    await rejectsWith(call.run, 'ERR_IO');
    assert.match(String(failure), logDir);
  } finally {
    call?.release();
    await c.close().catch(() => undefined);
    await p1.close().catch(() => undefined); // closed already unless the test failed before
    await p2?.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
