/**
 * A consumer tailing the files (no producer in its process) whose log directory is replaced by
 * another log while it handles a record it holds, not at a wait on the files: it read on from its
 * open segment file and then opened the next segment by name in the other log (silently, from the
 * old log's offsets), or judged the other log's durable.offset against the old log's segment
 * (ERR_LOG_CORRUPT). It fails with ERR_IO naming the directory.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { holdAt, makeLog, replaceLog, twoLogs, type HeldCall } from './dir-replaced-kit.js';
import { rejectsWith, suite, tempDir } from './kit.js';

const test = suite('consumer-dir-replaced-reading');

for (const rollA of [true, false]) for (const rollB of [true, false]) {
  for (const mode of ['blocking', 'nonblocking'] as const) {
    test(`${mode}, old log ${rollA ? 'rolled at every record' : 'in one segment'}, new log ${rollB ? 'rolled' : 'in one segment'}: replaced while a record is handled, ERR_IO`, async () => {
      const logs = await twoLogs(6, 10, { roll: rollA, frameEach: true }, { roll: rollB, frameEach: true });
      const { logDir } = logs;
      const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') });
      let call: HeldCall | null = null;
      try {
        call = await holdAt(c, 3, mode);
        const { seen, run } = call;
        replaceLog(logs);
        const failure = await call.finish(false);
        assert.ok(seen.every((s) => s.startsWith('a')), `no record of the other log is handed out: ${seen.join(',')}`);
        // A nonblocking call that reads only the file it had open (the old log's, up to where the
        // files ended at its start) may end; anything else fails.
        if (mode === 'blocking' || rollA) assert.ok(failure !== null, `the call fails (handed out ${seen.join(',')})`);
        if (failure !== null) {
          await rejectsWith(run, 'ERR_IO');
          assert.match(String(failure), logDir);
        }
      } finally {
        call?.release();
        await c.close().catch(() => undefined);
      }
    });
  }
}

test('blocking, the old log\'s producer running in this process: replaced while a record is handled, ERR_IO', async () => {
  const root = tempDir();
  const logDir = join(root, 'log');
  const other = join(root, 'other');
  await makeLog(other, 'b', 10, { roll: true });
  const p = await Producer.open({ logDir, fileRollSize: 1024 });
  for (let i = 0; i < 6; i++) {
    p.append(`a${i} ${'x'.repeat(1100)}`);
    await p.flush();
  }
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') });
  let call: HeldCall | null = null;
  try {
    call = await holdAt(c, 3);
    replaceLog({ root, logDir, other });
    const failure = await call.finish(true);
    assert.equal(call.seen, ['a0', 'a1', 'a2'], 'no record of the other log is handed out');
    await rejectsWith(call.run, 'ERR_IO');
    assert.match(String(failure), logDir);
  } finally {
    call?.release();
    await c.close().catch(() => undefined);
    await p.close().catch(() => undefined);
  }
});

test.run();
