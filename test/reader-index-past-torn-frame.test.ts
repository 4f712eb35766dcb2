/**
 * After a power loss, frames written after the last fsync may reach the disk out of order: a
 * zero-filled frame with whole frames after it, none of which carries a durable position past it.
 * Recovery cuts there (the rest is a torn tail). A reader in another process must not take an index
 * entry after the torn frame for the log's end or a place to read from: the log's end it reports
 * (a consumer's `latest`, inspectLog) would lie past records the next producer appends at those
 * offsets.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, Whence, inspectLog } from '../dist/index.js';
import { suite } from './kit.js';
import { powerLossLog } from './torn-tail-kit.js';

const test = suite('reader-index-past-torn-frame');


test('inspectLog: the log ends where recovery will cut it', async () => {
  const { logDir, durable } = await powerLossLog();
  assert.is((await inspectLog(logDir)).nextOffset, durable);
  const p = await Producer.open({ logDir });
  assert.is(p.nextOffset, durable, 'recovery cuts at the torn frame');
  await p.close();
});

test('a consumer opened at latest before the producer recovers gets every record the producer appends next', async () => {
  const { logDir, durable } = await powerLossLog();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.latest()) });
  try {
    const p = await Producer.open({ logDir });
    for (let i = 0; i < 20; i++) p.append(`after-${i}`);
    await p.close();
    const got: Array<{ offset: number; text: string }> = [];
    let err: unknown = null;
    try {
      await c.nonblockingProcess(100, (m) => { got.push({ offset: m.offset, text: Buffer.from(m.data).toString() }); return 'commit'; });
    } catch (e) {
      err = e;
    }
    assert.is(err, null, `the consumer failed: ${String(err)}`);
    assert.equal(got, Array.from({ length: 20 }, (_, i) => ({ offset: durable + i, text: `after-${i}` })));
  } finally {
    await c.close();
  }
});

test('a consumer opened at a position past the torn frame is refused as past the end, never handed a record recovery cuts', async () => {
  const { logDir, durable } = await powerLossLog();
  const past = durable + 6; // in a whole frame after the torn one
  let err: unknown = null;
  const got: number[] = [];
  try {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(past)) });
    try {
      await c.nonblockingProcess(100, (m) => { got.push(m.offset); return 'commit'; });
    } finally {
      await c.close();
    }
  } catch (e) {
    err = e;
  }
  assert.equal(got, [], 'no record past the torn frame is handed out');
  assert.is((err as { code?: string } | null)?.code, 'ERR_INVALID_OPTION');
});

test.run();
