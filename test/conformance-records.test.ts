/**
 * Conformance, the producer's side and what a reader sees of it, on every backend: offsets dense from
 * 0 and in order, every Whence, keys and headers, dedup keys across a producer restart, flush, one
 * producer at a time, bad input.
 */
import * as assert from 'uvu/assert';
import { ConsumerStyle, Whence, type Message } from '../dist/index.js';
import { conformance, readAll, type LogUnderTest } from './conformance-kit.js';
import { prng, rejectsWith, throwsWith } from './kit.js';

async function collect(log: LogUnderTest, whence: ReturnType<typeof Whence.oldest>): Promise<Message[]> {
  const c = await log.consumer(ConsumerStyle.nonTx(whence));
  const out: Message[] = [];
  try {
    await c.nonblockingProcess(null, (m) => { out.push(m); return 'commit'; });
  } finally {
    await c.close();
  }
  return out;
}

conformance('conformance: records', (test, b) => {
  test('append returns dense offsets from 0; a reader sees every record once, in order, with its bytes', async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
    process.stdout.write(`# [${b.name}] seed ${seed}\n`);
    const rnd = prng(seed);
    const log = await b.fresh();
    const p = await log.producer();
    // 5,000: past the JetStream producer's queue compaction (after 1,024 acknowledged records).
    const texts = Array.from({ length: 5_000 }, (_, i) => `r${i}-${'x'.repeat(Math.floor(rnd() * 200))}`);
    try {
      texts.forEach((t, i) => assert.is(p.append(t), i, `offset of record ${i}`));
      assert.is(p.nextOffset, texts.length);
      await p.flush();
      assert.is(p.durableOffset, texts.length, 'flush: every record appended before it is acknowledged');
    } finally {
      await p.close();
    }
    const got = await readAll(log);
    assert.equal(got.map((r) => r.offset), texts.map((_, i) => i));
    assert.equal(got.map((r) => r.text), texts);
    for (let i = 1; i < got.length; i++) assert.ok(got[i]!.timestamp >= got[i - 1]!.timestamp, 'timestamps never decrease');
  });

  test('a reopened producer goes on at the next offset', async () => {
    const log = await b.fresh();
    let p = await log.producer();
    p.append('a');
    p.append('b');
    await p.close();
    p = await log.producer();
    try {
      assert.is(p.nextOffset, 2);
      assert.is(p.append('c'), 2);
      await p.flush();
    } finally {
      await p.close();
    }
    assert.equal((await readAll(log)).map((r) => r.text), ['a', 'b', 'c']);
  });

  test('Whence.oldest, latest, position(n), timestamp(ms)', async () => {
    const log = await b.fresh();
    const p = await log.producer();
    try {
      for (let i = 0; i < 10; i++) p.append(`early-${i}`);
      await p.flush();
      const all = await collect(log, Whence.oldest());
      assert.is(all.length, 10);
      assert.equal((await collect(log, Whence.position(7))).map((m) => m.offset), [7, 8, 9]);
      assert.equal(await collect(log, Whence.position(10)), [], 'position(end): nothing yet');
      await rejectsWith(log.consumer(ConsumerStyle.nonTx(Whence.position(11))), 'ERR_INVALID_OPTION');
      // timestamp: the first record stored at or after ms.
      const pick = all[4]!;
      const fromTime = await collect(log, Whence.timestamp(pick.timestamp));
      assert.ok(fromTime.length > 0 && fromTime[0]!.timestamp >= pick.timestamp, 'starts at or after ms');
      const first = fromTime[0]!.offset;
      assert.ok(first <= pick.offset, 'no record at or after ms is passed over');
      if (first > 0) assert.ok(all[first - 1]!.timestamp < pick.timestamp, 'the record before it is older');
      assert.equal(await collect(log, Whence.timestamp(Date.now() + 60_000)), [], 'a time after the end: nothing yet');
      assert.is((await collect(log, Whence.timestamp(0))).length, 10, 'a time before the start: the oldest');
      // latest: only what is appended after the open.
      const c = await log.consumer(ConsumerStyle.nonTx(Whence.latest()));
      try {
        p.append('late');
        await p.flush();
        const seen: string[] = [];
        await c.nonblockingProcess(null, (m) => { seen.push(Buffer.from(m.data).toString()); return 'commit'; });
        assert.equal(seen, ['late']);
      } finally {
        await c.close();
      }
    } finally {
      await p.close();
    }
  });

  test('keys and headers round trip; a record without them reads null', async () => {
    const log = await b.fresh();
    const p = await log.producer();
    try {
      p.append('plain');
      p.append('keyed', { key: 'order-17' });
      p.append('bin', { key: new Uint8Array([0, 1, 2, 255]), headers: { 'content-type': 'application/json', trace: 'abc 123' } });
      await p.flush();
    } finally {
      await p.close();
    }
    const got = await collect(log, Whence.oldest());
    assert.is(got[0]!.key, null);
    assert.is(got[0]!.headers, null);
    assert.equal(Buffer.from(got[1]!.key!).toString(), 'order-17');
    assert.equal([...got[2]!.key!], [0, 1, 2, 255]);
    assert.equal({ ...got[2]!.headers }, { 'content-type': 'application/json', trace: 'abc 123' });
  });

  test('dedupKey: a key seen within the window returns the earlier offset, also after a producer restart', async () => {
    const log = await b.fresh();
    let p = await log.producer({ dedupWindow: { records: 1000 } });
    try {
      assert.is(p.append('first', { dedupKey: 'k1' }), 0);
      assert.is(p.append('other'), 1);
      assert.is(p.append('again', { dedupKey: 'k1' }), 0, 'the earlier offset, nothing appended');
      assert.is(p.nextOffset, 2);
      await p.flush();
    } finally {
      await p.close();
    }
    p = await log.producer({ dedupWindow: { records: 1000 } });
    try {
      assert.is(p.append('after restart', { dedupKey: 'k1' }), 0, 'the window was rebuilt from the log');
      assert.is(p.append('new', { dedupKey: 'k2' }), 2);
      await p.flush();
    } finally {
      await p.close();
    }
    assert.equal((await readAll(log)).map((r) => r.text), ['first', 'other', 'new']);
    const q = await log.producer();
    try {
      throwsWith(() => q.append('x', { dedupKey: 'k3' }), 'ERR_INVALID_RECORD'); // no window, no dedup key
    } finally {
      await q.close();
    }
  });

  test('one producer at a time: a second open fails with ERR_LOG_LOCKED', async () => {
    const log = await b.fresh();
    const p = await log.producer();
    try {
      await rejectsWith(log.producer(), 'ERR_LOG_LOCKED');
      p.append('still works');
      await p.flush();
    } finally {
      await p.close();
    }
    const again = await log.producer(); // released by close()
    await again.close();
  });

  test('bad input: a clear LogError, nothing appended', async () => {
    const log = await b.fresh();
    const p = await log.producer();
    try {
      throwsWith(() => p.append(123 as unknown as string), 'ERR_INVALID_OPTION');
      throwsWith(() => p.append(null as unknown as string), 'ERR_INVALID_OPTION');
      throwsWith(() => p.append('x', { key: 5 as unknown as string }), 'ERR_INVALID_RECORD');
      throwsWith(() => p.append('x', { headers: { a: 1 as unknown as string } }), 'ERR_INVALID_RECORD');
      throwsWith(() => p.append('x', { bogus: 1 } as never), 'ERR_INVALID_RECORD');
      throwsWith(() => p.append('lone \ud800'), 'ERR_INVALID_RECORD'); // no UTF-8 form: it would read back as U+FFFD
      assert.is(p.nextOffset, 0);
      await rejectsWith(log.producer({ syncPolicy: 'fast' }), 'ERR_INVALID_OPTION');
      await rejectsWith(log.producer({ noSuchOption: 1 }), 'ERR_INVALID_OPTION');
      await rejectsWith(log.consumer(ConsumerStyle.clientTx('../etc')), 'ERR_INVALID_CONSUMER_ID');
      await rejectsWith(log.consumer({ kind: 'nope' } as never), 'ERR_INVALID_OPTION');
    } finally {
      await p.close();
    }
    throwsWith(() => p.append('after close'), 'ERR_LOG_CLOSED');
  });
});
