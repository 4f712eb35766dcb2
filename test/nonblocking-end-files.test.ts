/**
 * Nonblocking reads of a log whose producer runs in another process (`visibility: 'written'`, read
 * from the files): a call ends at the end of the files when it starts, as it does with a producer in
 * this process. Records a child producer appends while nonblockingProcess or iter() runs are left for
 * the next call, which goes on exactly where the last one ended; a frame that was not whole when the
 * call started is not read by it, even once it is.
 */
import * as assert from 'uvu/assert';
import { closeSync, openSync, readSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence, type Message } from '../dist/index.js';
import { Child } from './child.js';
import { suite, tempDir } from './kit.js';

const test = suite('nonblocking-end-files');

const textOf = (m: Message): string => Buffer.from(m.data).toString();
const SEGMENT = '00000000000000000000.seg';

/** A producer child (fixtures/ipc-producer.mjs): append() resolves once the records are in the files. */
async function childProducer(logDir: string): Promise<{ child: Child; append: (records: string[]) => Promise<number[]> }> {
  const child = Child.fork('ipc-producer.mjs', [logDir], { execArgv: [] });
  await child.next('open');
  const append = async (records: string[]): Promise<number[]> => {
    child.send({ type: 'append', records });
    return (await child.next<{ type: string; offsets: number[] }>('appended')).offsets;
  };
  return { child, append };
}

/** Checks that `got` holds the records from..to-1, whole (their texts) and in order. */
function assertRecords(got: readonly Message[], from: number, to: number, what: string): void {
  assert.equal(got.map((m) => m.offset), Array.from({ length: to - from }, (_, i) => from + i), `${what}: the offsets`);
  assert.equal(got.map(textOf), got.map((m) => `rec-${m.offset}`), `${what}: the records whole`);
}

test('nonblockingProcess ends at the end of the files when it started, while a child producer appends', async () => {
  const logDir = tempDir();
  const { child, append } = await childProducer(logDir);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  let next = 0;
  const appendOne = async (): Promise<void> => {
    assert.equal(await append([`rec-${next}`]), [next]);
    next++;
  };
  try {
    for (let i = 0; i < 3; i++) await appendOne();
    // Each record handled appends one more, in the files before the handler answers; 'break' bounds a call that chases them.
    const run = async (chase: boolean): Promise<{ got: Message[]; stoppedBy: string; committed: number }> => {
      const got: Message[] = [];
      const s = await c.nonblockingProcess(null, async (m) => {
        got.push(m);
        if (got.length >= 30) return 'break';
        if (chase) await appendOne();
        return 'commit';
      });
      return { got, stoppedBy: s.stoppedBy, committed: s.committed };
    };
    const first = await run(true);
    assert.equal([first.stoppedBy, first.committed], ['end', 3], 'the first call ends after the 3 records there when it started');
    assertRecords(first.got, 0, 3, 'the first call');
    const second = await run(true);
    assert.equal([second.stoppedBy, second.committed], ['end', 3], 'the second call: the 3 appended during the first');
    assertRecords(second.got, 3, 6, 'the second call');
    const third = await run(false);
    assert.equal([third.stoppedBy, third.committed], ['end', 3]);
    assertRecords(third.got, 6, 9, 'the third call');
  } finally {
    await c.close();
    await child.kill();
  }
});

test('iter() ends at the end of the files when it started, while a child producer appends', async () => {
  const logDir = tempDir();
  const { child, append } = await childProducer(logDir);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  let next = 0;
  try {
    await append(['rec-0', 'rec-1']);
    next = 2;
    for (const [from, to] of [[0, 2], [2, 4], [4, 6]] as const) {
      const got: Message[] = [];
      for (const m of c.iter()) {
        got.push(m);
        if (got.length >= 30) break;
        assert.equal(await append([`rec-${next}`]), [next]); // in the files before the loop asks for the next record
        next++;
      }
      assertRecords(got, from, to, `iter() from ${from}`);
    }
  } finally {
    await c.close();
    await child.kill();
  }
});

test('a frame not whole in the files when iter() starts is left for the next iteration', async () => {
  const logDir = tempDir();
  const { child, append } = await childProducer(logDir);
  const path = join(logDir, SEGMENT);
  await append(['rec-0', 'rec-1', 'rec-2']);
  const lastFrameAt = statSync(path).size;
  await append(['rec-3']); // one record: one frame
  child.send({ type: 'close' });
  await child.next('closed');
  await child.exited;
  const size = statSync(path).size;
  assert.ok(size > lastFrameAt, 'the last frame is in the segment');
  // The last frame half written: its second half is written back while iter() runs.
  const cut = lastFrameAt + Math.floor((size - lastFrameAt) / 2);
  const rest = Buffer.alloc(size - cut);
  const fd = openSync(path, 'r+');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    assert.is(readSync(fd, rest, 0, rest.byteLength, cut), rest.byteLength);
    truncateSync(path, cut);
    {
      const got: Message[] = [];
      for (const m of c.iter()) {
        got.push(m);
        if (got.length === 1) assert.is(writeSync(fd, rest, 0, rest.byteLength, cut), rest.byteLength);
      }
      assertRecords(got, 0, 3, 'the iteration that started with the last frame half written');
      assert.is(statSync(path).size, size, 'the frame is whole again');
      assertRecords([...c.iter()], 3, 4, 'the next iteration');
    }
  } finally {
    await c.close();
    closeSync(fd);
  }
});

test.run();
