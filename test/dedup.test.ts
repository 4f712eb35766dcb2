/**
 * Idempotent appends: the dedup window of `Producer.open({ dedupWindow })` and `append(data,
 * { dedupKey })`. A key the window holds returns the earlier offset and appends nothing; the window
 * forgets by offsets ({ records }) or by time ({ ms }); it is rebuilt from the log on open (across
 * segments, from an index entry inside the window's first segment); bad dedup keys and a dedup key in
 * appendBatch are refused with nothing appended; damage inside the window refuses the open.
 * Crashes: test/dedup-crash.test.ts.
 */
import * as assert from 'uvu/assert';
import { openSync, readdirSync, readSync, writeSync, closeSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
import { suite, digestDir, readRecords, rejectsWith, tempDir, throwsWith, waitFor } from './kit.js';

const test = suite('dedup');

test('a key seen in the window returns the earlier offset and appends nothing; other keys and plain records append', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), dedupWindow: { records: 1000 } });
  assert.is(p.append('a', { dedupKey: 'order-1' }), 0);
  assert.is(p.append('b', { dedupKey: 'order-2', key: 'k', headers: { h: 'v' } }), 1);
  assert.is(p.append('a again', { dedupKey: 'order-1' }), 0);
  assert.is(p.append('plain'), 2);
  assert.is(p.append('b again', { dedupKey: 'order-2' }), 1);
  assert.is(p.nextOffset, 3);
  await p.close();
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['a', 'b', 'plain']);
});

test('{ records: n } holds the keys of the last n offsets, by offset', async () => {
  const p = await Producer.open({ logDir: tempDir(), dedupWindow: { records: 3 } });
  p.append('x', { dedupKey: 'K' }); // offset 0
  p.append('1');
  p.append('2'); // next is 3: offset 0 is still one of the last 3
  assert.is(p.append('x', { dedupKey: 'K' }), 0);
  p.append('3'); // next is 4: offset 0 left the window
  assert.is(p.append('x', { dedupKey: 'K' }), 4);
  assert.is(p.append('x', { dedupKey: 'K' }), 4, 'the new record carries the key from now on');
  await p.close();
});

test('{ ms } forgets a key once it is older than the window', async () => {
  const p = await Producer.open({ logDir: tempDir(), dedupWindow: { ms: 40 } });
  const at = Date.now();
  assert.is(p.append('x', { dedupKey: 'K' }), 0);
  if (Date.now() - at < 40) assert.is(p.append('x', { dedupKey: 'K' }), 0);
  await waitFor(() => Date.now() - at > 60, '60 ms to pass');
  assert.is(p.append('x', { dedupKey: 'K' }), p.nextOffset - 1);
  assert.is(p.nextOffset, 2);
  await p.close();
});

test('the window is rebuilt from the log on open, across segments, and only over the records it covers', async () => {
  const logDir = tempDir();
  const opts = { logDir, fileRollSize: 1024, indexIntervalBytes: 512, dedupWindow: { records: 150 } } as const;
  let p = await Producer.open(opts);
  for (let i = 0; i < 200; i++) {
    p.append(`record ${i} ${'p'.repeat(i % 17)}`, i % 2 === 0 ? { dedupKey: `k${i}` } : undefined);
    if (i % 7 === 0) await p.flush();
  }
  await p.close();
  assert.ok(readdirSync(logDir).filter((n) => n.endsWith('.seg')).length >= 5, 'the log spans several segments');
  p = await Producer.open(opts);
  // next is 200: the window holds offsets 50 and after.
  for (const i of [50, 52, 120, 198]) assert.is(p.append('retry', { dedupKey: `k${i}` }), i, `k${i}`);
  assert.is(p.nextOffset, 200, 'nothing appended for keys in the window');
  assert.is(p.append('retry', { dedupKey: 'k48' }), 200, 'k48 is below the window: appended anew');
  await p.close();
  p = await Producer.open({ ...opts, dedupWindow: { ms: 60_000 } });
  assert.is(p.append('retry', { dedupKey: 'k0' }), 0, 'a time window reaches back to the first record');
  assert.is(p.append('retry', { dedupKey: 'k48' }), 200, 'the newer record with k48 is the one found');
  assert.is(p.nextOffset, 201);
  await p.close();
});

test('bad dedup keys and a dedup key in appendBatch are refused, with nothing appended', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), dedupWindow: { records: 10 } });
  p.append('first', { dedupKey: 'a' });
  await p.flush();
  const before = digestDir(logDir);
  // A lone surrogate would be stored as U+FFFD: the window rebuilt from the log would not know the key.
  for (const bad of [42, '', null, { k: 1 }, 'ord-\uD800', '\uDC00']) throwsWith(() => p.append('x', { dedupKey: bad as unknown as string }), 'ERR_INVALID_RECORD');
  throwsWith(() => p.append('x', { dedupKey: 'd'.repeat(1025) }), 'ERR_RECORD_TOO_LARGE');
  // @ts-expect-error: a batch record takes no dedupKey (the type refuses it, and so does the call)
  throwsWith(() => p.appendBatch(['y', { data: 'z', dedupKey: 'b' }]), 'ERR_INVALID_RECORD');
  assert.is(p.nextOffset, 1);
  await p.flush();
  assert.is(digestDir(logDir), before);
  assert.is(p.append('x', { dedupKey: 'a' }), 0, 'the window is as it was');
  await p.close();
  const plain = await Producer.open({ logDir });
  throwsWith(() => plain.append('x', { dedupKey: 'a' }), 'ERR_INVALID_RECORD');
  await plain.close();
});

test('a dedup key outside ASCII (a surrogate pair, U+FFFD itself) is known again after a restart', async () => {
  const logDir = tempDir();
  const opts = { logDir, syncPolicy: SyncPolicy.always(), dedupWindow: { records: 100 } } as const;
  const keys = ['order-\u{1F600}', 'order-\uFFFD', 'zählung'];
  let p = await Producer.open(opts);
  keys.forEach((k, i) => assert.is(p.append(`r${i}`, { dedupKey: k }), i));
  await p.close();
  p = await Producer.open(opts);
  keys.forEach((k, i) => assert.is(p.append(`retry ${i}`, { dedupKey: k }), i, `${k}: the earlier offset`));
  assert.is(p.append('new', { dedupKey: 'order-\uFFFD\uFFFD' }), 3);
  await p.close();
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['r0', 'r1', 'r2', 'new']);
});

test('a dedupKey whose getter answers otherwise when read again is refused, nothing appended (owner, then shared)', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, dedupWindow: { records: 10 } });
  const flipping = (first: string, then: string): { readonly dedupKey: string } => {
    let reads = 0;
    return { get dedupKey() { return reads++ === 0 ? first : then; } };
  };
  throwsWith(() => p.append('x', flipping('A', 'B')), 'ERR_INVALID_RECORD');
  assert.is(p.append('b', { dedupKey: 'B' }), 0, 'B was not remembered');
  assert.is(p.append('a', { dedupKey: 'A' }), 1, 'A was not remembered');
  p.share();
  throwsWith(() => p.append('y', flipping('C', 'D')), 'ERR_INVALID_RECORD');
  assert.is(p.append('d', { dedupKey: 'D' }), 2, 'D was not remembered');
  assert.is(p.append('c', { dedupKey: 'C' }), 3, 'C was not remembered');
  await p.close();
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['b', 'a', 'd', 'c']);
});

test('damage inside the window refuses the open (ERR_LOG_CORRUPT) instead of forgetting keys', async () => {
  const logDir = tempDir();
  const opts = { logDir, fileRollSize: 1024, dedupWindow: { records: 1000 } } as const;
  const p = await Producer.open(opts);
  for (let i = 0; i < 100; i++) p.append(`record ${i} ${'p'.repeat(20)}`, { dedupKey: `k${i}` });
  await p.close();
  // Flip a byte in the middle of the oldest (sealed) segment: recovery checks only the newest's tail.
  const oldest = join(logDir, readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort()[0]!);
  const fd = openSync(oldest, 'r+');
  const at = Math.floor(fstatSync(fd).size / 2);
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] ^= 0xff;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
  const err = await rejectsWith(Producer.open(opts), 'ERR_LOG_CORRUPT');
  assert.match(err.message, /dedup window/);
  // Without a window the same log opens (its damage is for readers to meet).
  const plain = await Producer.open({ logDir });
  await plain.close();
});

test.run();
