/**
 * What a transactional cursor keeps with its position: the state committed with it, which a 'retry',
 * a 'break' or a throw discards, whatever the handler does to the bytes after it set or read them (a
 * counter bumped in ctx.state, one scratch buffer reused); and its lag, whose bytes cover the records
 * it counts (the durable ones), not the written tail that records and ms leave out.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, inspectLog } from '../dist/index.js';
import { logOf, suite, tempDir, waitFor } from './kit.js';

const test = suite('cursor state and lag');

/** 10 durable records of ~100 B, then 1000 written and not durable (SyncPolicy.never, no flush). */
async function setup(): Promise<{ logDir: string; p: Producer }> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  for (let i = 0; i < 10; i++) p.append('x'.repeat(100));
  await p.flush();
  return { logDir, p };
}
async function writeUndurable(p: Producer): Promise<void> {
  for (let i = 0; i < 1000; i++) p.append('y'.repeat(100));
  await waitFor(() => p.writtenOffset === 1010, 'the records to be written');
  assert.is(p.durableOffset, 10);
}

test('an attempt that mutates ctx.state in place and then breaks leaves the state of before the record', async () => {
  const logDir = await logOf(3);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('st') });
  await c.nonblockingProcess(1, (_m, ctx) => { ctx.setState(new Uint8Array([1])); return 'commit'; });
  assert.equal([...c.state!], [1]);
  const s = await c.nonblockingProcess(1, (_m, ctx) => {
    const st = ctx.state!;
    st[0] = st[0]! + 1; // a counter bumped in the bytes the handler was given
    ctx.setState(st);
    return 'break';
  });
  assert.is(s.stoppedBy, 'break');
  assert.equal([...c.state!], [1], "the break discarded the attempt's state");
  await c.close();
});

test('a reused scratch buffer: a record answered retry then commit is counted once in the state, across a restart', async () => {
  const logDir = await logOf(4);
  const scratch = Buffer.alloc(4);
  const open = () => Consumer.open({ logDir, style: ConsumerStyle.clientTx('sum') });
  let c = await open();
  let failOnce = true;
  // A running count of the records applied, kept with the cursor; the handler writes it into one scratch buffer.
  await c.nonblockingProcess(null, (m, ctx) => {
    const count = ctx.state === null ? 0 : Buffer.from(ctx.state).readUInt32LE(0);
    scratch.writeUInt32LE(count + 1, 0);
    ctx.setState(scratch);
    if (m.offset === 2 && failOnce) { failOnce = false; return 'retry'; } // a transient failure: discards the staged state
    return 'commit';
  });
  const live = Buffer.from(c.state!).readUInt32LE(0);
  await c.close();
  c = await open();
  const reopened = Buffer.from(c.state!).readUInt32LE(0);
  await c.close();
  assert.is(live, 4);
  assert.is(reopened, 4);
});

test('group commit: after a break, close() commits the state of the records before it, with the cursor at it', async () => {
  const logDir = await logOf(3);
  const scratch = Buffer.alloc(1);
  const open = () => Consumer.open({ logDir, style: ConsumerStyle.clientTx('g'), commit: { everyRecords: 100 } });
  let c = await open();
  const s = await c.nonblockingProcess(null, (m, ctx) => {
    scratch[0] = m.offset + 1; // "records applied so far", kept with the cursor
    ctx.setState(scratch);
    return m.offset === 2 ? 'break' : 'commit';
  });
  assert.is(s.stoppedBy, 'break');
  await c.close();
  c = await open();
  assert.is(c.committedOffset, 2);
  assert.equal([...c.state!], [2], 'the state of records 0 and 1, committed with cursor 2');
  await c.close();
});


test('consumer.lag(): bytes stay those of the 10 durable records when 1000 more are written, not durable', async () => {
  const { logDir, p } = await setup();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('lagging') });
  const before = c.lag();
  await writeUndurable(p);
  const after = c.lag();
  assert.is(after.records, 10, 'records: durable only');
  assert.is(after.bytes, before.bytes, 'bytes: the same 10 durable records');
  await c.close();
  await p.close();
});

test('consumer.lag(): one durable record behind: the bytes of its frame, not of the 1000 records written after it', async () => {
  const { logDir, p } = await setup();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('lagging') });
  await c.nonblockingProcess(9, () => 'commit');
  await writeUndurable(p);
  const one = c.lag();
  assert.is(one.records, 1);
  // Whole frames: the one frame that holds the 10 durable records, not the 1000 written after them.
  assert.ok(one.bytes > 0 && one.bytes < 2000, `one record behind, in a frame of ~1 KB: got ${one.bytes} bytes`);
  await c.close();
  await p.close();
});

test('inspectLog: a cursor one durable record behind: the bytes of its frame', async () => {
  const { logDir, p } = await setup();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('lagging') });
  await c.nonblockingProcess(9, () => 'commit');
  await c.close();
  await writeUndurable(p);
  const info = await inspectLog(logDir);
  assert.is(info.cursors[0]!.lag.records, 1);
  assert.ok(info.cursors[0]!.lag.bytes > 0 && info.cursors[0]!.lag.bytes < 2000, `one record behind, in a frame of ~1 KB: got ${info.cursors[0]!.lag.bytes} bytes`);
  await p.close();
});

test.run();
