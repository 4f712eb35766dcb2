/**
 * Producers on several threads of one process (producer.share() / Producer.attach(token)) and
 * consumers on other threads that wait on the producer's shared memory:
 * - 1 to 8 attached threads (and the owner) with random record sizes, single appends and batches:
 *   offsets dense, every record once, each thread's records in its own order, each offset a thread got
 *   holding its record, its flush covering its records (seeded: the seed is printed);
 * - a thread that stops inside an append (the lock drawn and never released, then the thread
 *   terminated): the others fail with ERR_PRODUCER_STALLED within the bound, never hang; a thread
 *   terminated at a random point of an append loop leaves a log that recovers whole;
 * - closing the owner closes attached handles (ERR_LOG_CLOSED); bad tokens, dedup keys on attached
 *   handles;
 * - a consumer on a worker started after the producer opened waits on its shared memory, one started
 *   before tails the files; both read every record.
 */
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { Producer, SyncPolicy, ErrorCode } from '../dist/index.js';
import { suite, prng, readRecords, rejectsWith, tempDir, throwsWith, waitFor } from './kit.js';

const test = suite('shared-producer');
const FIXTURE = new URL('./fixtures/attached-producer.mjs', import.meta.url);
const SEED = Number(process.env.SEED ?? Date.now() % 1_000_000);
console.log(`shared-producer: SEED=${SEED}`);

const workers = new Set<Worker>();
test.after.each(async () => {
  await Promise.all([...workers].map((w) => w.terminate()));
  workers.clear();
});

function start(data: Record<string, unknown>): Worker {
  const w = new Worker(FIXTURE, { workerData: data, execArgv: [] });
  workers.add(w);
  return w;
}

/** The first message of `w` that has `key`; rejects if the worker fails or exits first. */
function messageWith<T>(w: Worker, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>): void => { if (key in m) { w.off('message', onMessage); resolve(m as T); } };
    w.on('message', onMessage);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`worker exited (${code}) before a message with "${key}"`)));
  });
}

interface Appended { offsets: number[]; durable: number }

test('attached threads and the owner: dense offsets, every record once, per-thread order, flush covers each', async () => {
  const random = prng(SEED);
  for (let round = 0; round < 4; round++) {
    const logDir = tempDir();
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), ringBytes: 64 * 1024 });
    const token = p.share();
    const threads = 1 + Math.floor(random() * 8);
    const plan = Array.from({ length: threads }, (_, id) => ({ id: `t${id}`, n: 200 + Math.floor(random() * 1500), seed: Math.floor(random() * 1e9), batch: random() < 0.3 ? 1 + Math.floor(random() * 20) : 1 }));
    const done = plan.map((d) => messageWith<Appended>(start({ mode: 'append', token, ...d }), 'offsets'));
    const ownerOffsets: number[] = [];
    for (let i = 0; i < 500; i++) ownerOffsets.push(p.append(`owner:${i}:`));
    const results = await Promise.all(done);
    await p.close();
    const total = plan.reduce((s, d) => s + d.n, 0) + 500;
    const records = await readRecords(logDir);
    assert.is(records.length, total, `round ${round}: every record once (${threads} threads)`);
    records.forEach((r, i) => assert.is(r.offset, i, 'offsets dense'));
    const texts = records.map((r) => r.text);
    const check = (id: string, n: number, offsets: number[]): void => {
      assert.is(offsets.length, n);
      offsets.forEach((o, i) => assert.ok(texts[o]!.startsWith(`${id}:${i}:`), `${id}'s record ${i} at the offset append gave (${o})`));
      for (let i = 1; i < n; i++) assert.ok(offsets[i]! > offsets[i - 1]!, `${id}'s records in its order`);
    };
    plan.forEach((d, k) => {
      check(d.id, d.n, results[k]!.offsets);
      assert.ok(results[k]!.durable >= results[k]!.offsets.at(-1)! + 1, `${d.id}'s flush covered its records`);
    });
    check('owner', 500, ownerOffsets);
  }
});

test('a thread that stops holding the append lock: the others fail with ERR_PRODUCER_STALLED, bounded', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), appendTimeoutMs: 100 });
  p.append('before');
  await p.flush();
  const token = p.share();
  const holder = start({ mode: 'hold', token });
  await messageWith(holder, 'holding');
  await holder.terminate();
  const err = throwsWith(() => p.append('after'), ErrorCode.PRODUCER_STALLED);
  assert.match(err.message, 'stopped inside an append');
  throwsWith(() => Producer.attach(token), ErrorCode.PRODUCER_STALLED);
  assert.is(p.error?.code, ErrorCode.PRODUCER_STALLED);
  await rejectsWith(p.close(), ErrorCode.PRODUCER_STALLED);
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['before'], 'what was flushed stays');
});

test('threads terminated at random points of their appends: the log recovers whole, each thread a prefix', async () => {
  const random = prng(SEED + 1);
  for (let round = 0; round < 3; round++) {
    const logDir = tempDir();
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), appendTimeoutMs: 100, ringBytes: 64 * 1024 });
    const token = p.share();
    const loopers = [0, 1, 2].map((k) => start({ mode: 'loop', token, id: `l${k}` }));
    await Promise.all(loopers.map((w) => messageWith(w, 'started')));
    await waitFor(() => p.nextOffset > 2000 + Math.floor(random() * 20_000), 'the loops to append');
    await Promise.all(loopers.map((w) => w.terminate()));
    // The owner's append either goes on (no thread died inside an append) or fails with the code.
    let stalled = false;
    try {
      p.append('owner-after');
    } catch (e) {
      assert.is((e as { code?: string }).code, ErrorCode.PRODUCER_STALLED);
      stalled = true;
    }
    await p.close().catch((e: { code?: string }) => assert.is(e.code, ErrorCode.PRODUCER_STALLED));
    const records = await readRecords(logDir); // reopens: recovery keeps a whole prefix of frames
    records.forEach((r, i) => assert.is(r.offset, i));
    for (const id of ['l0', 'l1', 'l2']) {
      const mine = records.filter((r) => r.text.startsWith(`${id}:`));
      mine.forEach((r, i) => assert.ok(r.text.startsWith(`${id}:${i}:`) && r.text.length === `${id}:${i}:`.length + (i % 200), `${id}'s record ${i} whole, in order`));
    }
    if (!stalled) assert.is(records.at(-1)?.text, 'owner-after');
  }
});

test('closing the owner closes attached handles; bad tokens and dedup keys are refused', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), dedupWindow: { records: 100 } });
  throwsWith(() => Producer.attach({} as never), ErrorCode.INVALID_OPTION);
  throwsWith(() => Producer.attach(null as never), ErrorCode.INVALID_OPTION);
  const token = p.share();
  throwsWith(() => Producer.attach({ ...token, type: 'reactive-log.producer-token.layout-1' }), ErrorCode.INVALID_OPTION);
  const a = Producer.attach(token);
  assert.is(a.append('a0'), 0);
  assert.is(p.append('p0', { dedupKey: 'k' }), 1);
  assert.is(p.append('p0 again', { dedupKey: 'k' }), 1, 'the owner\'s dedup window works when shared');
  throwsWith(() => a.append('a1', { dedupKey: 'k2' }), ErrorCode.INVALID_RECORD);
  assert.is(a.appendBatch(['a1', { data: 'a2', key: 'k' }]), 2);
  assert.is(a.nextOffset, 4);
  assert.is(p.nextOffset, 4);
  await a.flush();
  assert.ok(a.durableOffset >= 4);
  await p.close();
  throwsWith(() => a.append('late'), ErrorCode.LOG_CLOSED);
  throwsWith(() => Producer.attach(token), ErrorCode.LOG_CLOSED);
  await a.close(); // its records were durable before the owner closed
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['a0', 'p0', 'a1', 'a2']);
});

test('an append from a getter of another append\'s options on a shared handle is refused at once, not stalled on the lock', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  p.share();
  let inner: Error | null = null;
  const outer = p.append('outer', { key: 'k', headers: { get h(): string { inner = throwsWith(() => p.append('inner'), ErrorCode.INVALID_RECORD); return 'v'; } } });
  assert.ok(inner !== null, 'the getter ran');
  assert.is(outer, 0);
  assert.is(p.append('after'), 1);
  await p.close();
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['outer', 'after']);
});

test('a consumer thread started after the producer opened waits on its shared memory; one started before tails the files', async () => {
  const logDir = tempDir();
  const n = 3000;
  const before = start({ mode: 'consume', logDir, n }); // the directory exists, no producer yet
  const beforeShared = await messageWith<{ shared: boolean }>(before, 'shared');
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  const after = start({ mode: 'consume', logDir, n });
  const afterShared = await messageWith<{ shared: boolean }>(after, 'shared');
  assert.is(beforeShared.shared, false, 'a thread started before the producer opened tails the files');
  assert.is(afterShared.shared, true, 'a thread started after waits on the producer\'s memory');
  const expected = Array.from({ length: n }, (_, i) => `r${i}`);
  const reads = [messageWith<{ texts: string[] }>(before, 'texts'), messageWith<{ texts: string[] }>(after, 'texts')];
  for (const t of expected) p.append(t);
  const [b, a] = await Promise.all(reads);
  assert.equal(a!.texts, expected);
  assert.equal(b!.texts, expected);
  await p.close();
});

test.run();
