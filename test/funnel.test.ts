/**
 * The funnel: `Producer.open({ acceptConnections: true })` and `Producer.connect({ logDir })` from
 * another process. Offsets dense across the owner and its clients, each side's order kept; keys,
 * headers and dedup keys carried; flush() durable by the owner's flush; the owner closing or killed
 * rejects what it did not answer; a killed client, hostile bytes and a client that never reads
 * affect only their own connection; bad options and nobody listening give coded errors.
 */
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { Child } from './child.js';
import { APPEND, appendFrame, countFrames, errorCodeIn, flushFrame, helloFrame, rawClient, rawFrame, refusedAppendFrame, settle } from './funnel-kit.js';
import { prng, readRecords, rejectsWith, suite, tempDir, waitFor } from './kit.js';

const test = suite('funnel');

const client = (dir: string, cfg: Record<string, unknown>): Child =>
  Child.fork('funnel-client.mjs', [JSON.stringify({ dir, ...cfg })], { execArgv: [] });

/** The texts of `prefix`-records in the log, in log order, with their offsets. */
async function recordsOf(logDir: string, prefix: string): Promise<Array<{ offset: number; text: string }>> {
  return (await readRecords(logDir)).filter((r) => r.text.startsWith(`${prefix}-`));
}

test('records from another process get dense offsets; each side keeps its own order', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true, syncPolicy: SyncPolicy.always() });
  const child = client(logDir, { prefix: 'c', count: 3000, mode: 'once' });
  let own = 0;
  const done = child.next<{ type: string; offsets: number[] }>('done');
  let finished = false;
  void done.then(() => { finished = true; }, () => { finished = true; });
  await waitFor(() => { p.append(`o-${own++}`); return finished; }, 'the child to finish', 30_000);
  const { offsets } = await done;
  await p.close();
  const all = await readRecords(logDir);
  assert.equal(all.map((r) => r.offset), all.map((_, i) => i), 'offsets are dense from 0');
  assert.equal(all.filter((r) => r.text.startsWith('c-')).map((r) => r.text), offsets.map((_, i) => `c-${i}`), "the client's records in its order");
  assert.equal(all.filter((r) => r.text.startsWith('o-')).map((r) => r.text), Array.from({ length: own }, (_, i) => `o-${i}`));
  for (const [i, off] of offsets.entries()) assert.is(all[off]!.text, `c-${i}`, `c-${i} is at the offset its append resolved with`);
});

test('keys and headers travel with the record; a dedup key returns the earlier offset', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true, dedupWindow: { records: 100 } });
  const child = client(logDir, { prefix: 'k', count: 50, keyed: true, mode: 'once' });
  await child.next('done');
  {
    await using remote = await Producer.connect({ logDir }); // [Symbol.asyncDispose] closes it at the block's end
    const first = await remote.append('d', { dedupKey: 'order-1' });
    assert.is(await remote.append('d again', { dedupKey: 'order-1' }), first, 'the earlier offset, nothing appended');
  }
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const msgs = [...c.iter()];
  await c.close();
  assert.is(msgs.length, 51);
  for (const [i, m] of msgs.slice(0, 50).entries()) {
    assert.is(Buffer.from(m.key!).toString(), `k${i}`);
    assert.equal(m.headers, { i: String(i) });
  }
  assert.is(msgs[50]!.key, null);
});

test('batches taken as runs through a small ring: records of random sizes wrap it, each at its offset, bytes intact', async () => {
  // A 64 KiB ring: the owner's runs go in pieces of up to 16 KiB, wrap the ring's end and wait for room.
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  console.log(`funnel runs seed=${seed} (replay: SEED=${seed})`);
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true, syncPolicy: SyncPolicy.never(), ringBytes: 64 * 1024, maxRecordBytes: 20_000 });
  const child = client(logDir, { prefix: 'r', count: 4000, mode: 'once', seed, maxPad: 19_000 });
  const { offsets } = await child.next<{ type: string; offsets: number[] }>('done');
  await p.close();
  const all = await readRecords(logDir);
  assert.equal(all.map((r) => r.offset), all.map((_, i) => i), 'offsets are dense from 0');
  assert.is(all.length, 4000);
  const random = prng(seed); // the child's sequence of lengths (the fixture's seededRandom is the same generator)
  for (const [i, off] of offsets.entries()) {
    assert.is(all[off]!.text, `r-${i}-${'x'.repeat(Math.floor(random() ** 3 * 19_000))}`, `r-${i} is at the offset its append resolved with, whole`);
  }
});

test('an owner shared with a thread: the funnel\'s records and the thread\'s interleave, offsets dense, each once', async () => {
  // The owner takes a client's batch as one run of records only while no other thread appends; once
  // shared, each record goes through the append lock.
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true, syncPolicy: SyncPolicy.never() });
  const thread = new Worker(new URL('./fixtures/attached-producer.mjs', import.meta.url), {
    workerData: { mode: 'append', token: p.share(), id: 't', n: 3000, seed: 7 }, execArgv: [],
  });
  try {
    const threadDone = once(thread, 'message');
    const child = client(logDir, { prefix: 'c', count: 3000, mode: 'once' });
    const [{ offsets }, [fromThread]] = await Promise.all([child.next<{ type: string; offsets: number[] }>('done'), threadDone]);
    await p.close();
    const all = await readRecords(logDir);
    assert.equal(all.map((r) => r.offset), all.map((_, i) => i), 'offsets are dense from 0');
    assert.is(all.length, 6000);
    for (const [i, off] of offsets.entries()) assert.is(all[off]!.text, `c-${i}`, `c-${i} is at the offset its append resolved with`);
    for (const [i, off] of (fromThread as { offsets: number[] }).offsets.entries()) assert.ok(all[off]!.text.startsWith(`t:${i}:`), `t:${i} at ${off}`);
  } finally {
    await thread.terminate();
  }
});

test('flush() resolves once the owner made every record of the handle durable', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true, syncPolicy: SyncPolicy.never() });
  const remote = await Producer.connect({ logDir });
  const offsets = await Promise.all(Array.from({ length: 1000 }, (_, i) => remote.append(`f-${i}`)));
  assert.ok(p.durableOffset <= offsets[999]!, 'SyncPolicy.never(): not durable before a flush');
  const last = remote.append('f-last');
  await remote.flush();
  assert.ok(p.durableOffset > (await last), `durable offset ${p.durableOffset} covers ${await last}`);
  await remote.close();
  await p.close();
});

test('close() waits for every answer; destroy() rejects what waits; later calls reject with ERR_LOG_CLOSED', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const remote = await Producer.connect({ logDir, maxInFlightBytes: 64 * 1024 });
  const sent = Array.from({ length: 5000 }, (_, i) => remote.append(`w-${i}-${'p'.repeat(50)}`));
  await remote.close();
  assert.equal(await Promise.all(sent), sent.map((_, i) => i), 'every append answered before close() resolved');
  await rejectsWith(remote.append('late'), 'ERR_LOG_CLOSED');
  await rejectsWith(remote.flush(), 'ERR_LOG_CLOSED');
  const other = await Producer.connect({ logDir });
  const cut = Array.from({ length: 100 }, () => other.append('cut'));
  other.destroy();
  for (const o of await settle(cut)) assert.equal(o, { ok: false, code: 'ERR_LOG_CLOSED' });
  await p.close();
  assert.is((await readRecords(logDir)).length, 5000, 'nothing of the destroyed handle was sent');
});

test('a record the owner refuses rejects that append only, with the owner\'s code', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true, maxRecordBytes: 1000 });
  const remote = await Producer.connect({ logDir });
  assert.is(remote.limits.maxRecordBytes, 1000);
  const outcomes = await settle([
    remote.append('a'), remote.append('b', { dedupKey: 'no window' }), remote.append('c'),
    remote.append(Buffer.alloc(1001)), remote.append('d', { headers: { n: 5 as unknown as string } }), remote.append('e'),
  ]);
  assert.equal(outcomes.map((o) => (o.ok ? 'ok' : o.code)), ['ok', 'ERR_INVALID_RECORD', 'ok', 'ERR_RECORD_TOO_LARGE', 'ERR_INVALID_RECORD', 'ok']);
  await remote.close();
  await p.close();
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['a', 'c', 'e']);
});

test('ERR_LOG_FULL on the owner refuses the rest of that batch only; the connection stays open', async () => {
  const logDir = tempDir();
  // Retention holds the writer back once the log holds 64 KiB; the 64 KiB ring then fills and append throws at once.
  const p = await Producer.open({
    logDir, acceptConnections: true, ringBytes: 64 * 1024, appendTimeoutMs: 0,
    fileRollSize: 1024, maxTotalBytes: 64 * 1024, blockingMinimumRetention: 3_600_000,
  });
  const remote = await Producer.connect({ logDir });
  const outcomes = await settle(Array.from({ length: 3000 }, (_, i) => remote.append(`full-${i}-${'p'.repeat(90)}`)));
  const accepted = outcomes.findIndex((o) => !o.ok);
  assert.ok(accepted > 0, 'some records fit before the ring filled');
  assert.equal(outcomes.slice(0, accepted), outcomes.slice(0, accepted).map((_, i) => ({ ok: true, offset: i })));
  for (const o of outcomes.slice(accepted)) assert.equal(o, { ok: false, code: 'ERR_LOG_FULL' }, 'the rest of the batch is refused');
  const [later] = await settle([remote.append('later')]); // answered after the pause: the connection stays open
  assert.ok(later!.ok || later!.code === 'ERR_LOG_FULL', JSON.stringify(later));
  await remote.close();
  await p.close();
  assert.equal((await recordsOf(logDir, 'full')).map((r) => r.text.split('-')[1]), outcomes.slice(0, accepted).map((_, i) => String(i)));
});

test('the owner closing rejects every append it did not answer with ERR_LOG_CLOSED, and resolves none it did not take', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const remote = await Producer.connect({ logDir, maxInFlightBytes: 64 * 1024 });
  const sent = Array.from({ length: 20_000 }, (_, i) => remote.append(`x-${i}-${'p'.repeat(90)}`));
  const settled = settle(sent); // handlers first: the rejections come while close() runs
  await sent[0];
  await p.close();
  const outcomes = await settled;
  const flushed = remote.flush();
  await rejectsWith(flushed, 'ERR_LOG_CLOSED');
  assert.ok(outcomes.some((o) => !o.ok), 'some appends were still waiting');
  for (const o of outcomes) if (!o.ok) assert.is(o.code, 'ERR_LOG_CLOSED');
  const log = await readRecords(logDir);
  for (const [i, o] of outcomes.entries()) if (o.ok) assert.ok(log[o.offset]?.text.startsWith(`x-${i}-`), `x-${i} is at ${o.offset}`);
  assert.equal(log.map((r) => r.text.split('-')[1]), log.map((_, i) => String(i)), 'the log holds a prefix of what was sent, in order');
  assert.not.ok(existsSync(join(logDir, 'producer.sock')), 'the socket file is removed');
  await rejectsWith(remote.append('late'), 'ERR_LOG_CLOSED');
});

test('owner SIGKILLed: what it did not answer rejects; what a flush acknowledged is in the log after reopen', async () => {
  const logDir = tempDir();
  const owner = Child.fork('funnel-owner.mjs', [JSON.stringify({ dir: logDir })], { execArgv: [] });
  await owner.next('open');
  const remote = await Producer.connect({ logDir });
  let flushedUpTo = 0;
  const pending: Array<Promise<number>> = [];
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 500; i++) pending.push(remote.append(`s-${pending.length}`));
    await remote.flush();
    flushedUpTo = pending.length;
  }
  for (let i = 0; i < 20_000; i++) pending.push(remote.append(`s-${pending.length}`));
  // The owner may answer this flush before the kill lands: then it covers every record before it.
  const lastFlush = remote.flush().then(() => 'resolved', (e: { code?: string }) => e.code ?? String(e));
  const sentBeforeFlush = pending.length;
  const settled = settle(pending);
  await owner.kill();
  const outcomes = await settled;
  const flushOutcome = await lastFlush;
  assert.ok(flushOutcome === 'resolved' || flushOutcome === 'ERR_LOG_CLOSED', `the last flush resolved or failed with ERR_LOG_CLOSED, got ${flushOutcome}`);
  if (flushOutcome === 'resolved') flushedUpTo = sentBeforeFlush;
  for (const o of outcomes.slice(flushedUpTo)) if (!o.ok) assert.is(o.code, 'ERR_LOG_CLOSED');
  await rejectsWith(Producer.connect({ logDir }), 'ERR_LOG_CLOSED'); // the stale socket: nobody listens
  const p = await Producer.open({ logDir });
  assert.not.ok(existsSync(join(logDir, 'producer.sock')), 'the next owner removes the stale socket');
  await p.close();
  const log = await recordsOf(logDir, 's');
  assert.equal(log.map((r) => r.text), log.map((_, i) => `s-${i}`), 'a prefix of what was sent, in order, nothing else');
  assert.ok(log.length >= flushedUpTo, `every flushed record survived (${log.length} of ${flushedUpTo})`);
  for (const [i, o] of outcomes.slice(0, flushedUpTo).entries()) assert.equal(o, { ok: true, offset: i });
});

test('a client SIGKILLed mid-batch harms neither the log nor the owner nor other clients', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const other = await Producer.connect({ logDir });
  const child = client(logDir, { prefix: 'e', mode: 'endless' });
  for (let answered = 0; answered < 3000;) answered = (await child.next<{ type: string; answered: number }>('progress')).answered;
  await child.kill();
  const more = await Promise.all(Array.from({ length: 100 }, (_, i) => other.append(`ok-${i}`)));
  await other.flush();
  p.append('owner');
  await p.flush();
  assert.equal(more, more.map((_, i) => more[0]! + i));
  await other.close();
  await p.close();
  const killed = await recordsOf(logDir, 'e');
  assert.ok(killed.length >= 3000);
  assert.equal(killed.map((r) => r.text), killed.map((_, i) => `e-${i}`), "the killed client's records: a prefix, in order");
  assert.is((await recordsOf(logDir, 'ok')).length, 100);
});

test('hostile bytes close only their own connection; the log and other clients go on', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true, maxRecordBytes: 4096 });
  const good = await Producer.connect({ logDir });
  await good.append('before');
  const attacks: Array<[string, Buffer[]]> = [
    ['garbage', [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]],
    ['a huge length', [helloFrame(), Buffer.from([0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 3])]],
    ['a bad CRC', [helloFrame(), rawFrame(3, appendFrame(['evil']).subarray(9), true)]],
    ['an APPEND before HELLO', [appendFrame(['evil'])]],
    ['a malformed APPEND', [helloFrame(), rawFrame(3, Buffer.from([2, 0, 0, 0, 1, 0, 0, 0, 65]))]],
    ['an unknown message', [helloFrame(), rawFrame(99, Buffer.alloc(4))]],
  ];
  for (const [what, bytes] of attacks) {
    const raw = await rawClient(logDir);
    for (const b of bytes) raw.socket.write(b);
    await waitFor(() => raw.isClosed(), `the owner to close the connection sending ${what}`);
    assert.is(errorCodeIn(raw.received()), 'ERR_IO', `${what}: the owner says why (ERR_IO)`);
    assert.is(typeof (await good.append(`after ${what}`)), 'number');
  }
  const half = await rawClient(logDir);
  half.socket.write(Buffer.concat([helloFrame(), appendFrame(['half']).subarray(0, 12)]));
  await good.flush();
  assert.not.ok(half.isClosed(), 'half a frame then silence is left open');
  half.socket.destroy();
  await good.close();
  await p.close();
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['before', ...attacks.map(([w]) => `after ${w}`)]);
});

test('a header value that is not UTF-8 is refused, not stored', async () => {
  // 30,000 bytes of 0xFF: not UTF-8 (and, read as U+FFFD, 90,000 bytes, past MAX_HEADER_VALUE_BYTES).
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const value = Buffer.alloc(30_000, 0xff);
  const attrs = Buffer.concat([Buffer.from([2, 1, 1, 0x68]), Buffer.from([value.length & 0xff, value.length >>> 8]), value]); // headers: 1, "h"
  const record = Buffer.concat([Buffer.alloc(4), attrs, Buffer.from('d')]);
  record.writeUInt32LE(((attrs.length + 1) | 0x8000_0000) >>> 0, 0);
  const count = Buffer.alloc(4);
  count.writeUInt32LE(1, 0);
  const raw = await rawClient(logDir);
  raw.socket.write(Buffer.concat([helloFrame(), rawFrame(APPEND, Buffer.concat([count, record]))]));
  await waitFor(() => countFrames(raw.received(), 4) === 1, 'the APPEND_REPLY');
  raw.socket.destroy();
  await p.close();
  assert.equal(await readRecords(logDir), [], 'nothing stored');
});

test('a flood of flushes is answered, each one, past the bound on flushes running at once', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const raw = await rawClient(logDir);
  raw.socket.write(Buffer.concat([helloFrame(), appendFrame(['x']), ...Array.from({ length: 3000 }, (_, i) => flushFrame(i))]));
  await waitFor(() => countFrames(raw.received(), 6) === 3000, '3000 FLUSH_OK', 30_000);
  assert.not.ok(raw.isClosed());
  raw.socket.destroy();
  await p.close();
});

test('a client that never reads its replies is closed; the others go on', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true, syncPolicy: SyncPolicy.never() });
  const good = await Producer.connect({ logDir });
  const deaf = await rawClient(logDir, { read: false });
  deaf.socket.write(helloFrame());
  const batch = refusedAppendFrame(2000); // 16 KB of reply each, nothing appended
  const pump = (): void => { while (!deaf.isClosed() && deaf.socket.write(batch)); };
  deaf.socket.on('drain', pump);
  pump();
  let served = 0;
  await waitFor(async () => { await good.append(`g-${served++}`); return deaf.isClosed(); }, 'the owner to close the deaf client', 20_000);
  await good.flush();
  await good.close();
  await p.close();
  assert.equal((await readRecords(logDir)).map((r) => r.text), Array.from({ length: served }, (_, i) => `g-${i}`), 'the good client\'s records, and nothing of the deaf one');
});

test('bad options give ERR_INVALID_OPTION; nobody listening gives ERR_LOG_CLOSED', async () => {
  const logDir = tempDir();
  for (const bad of ['yes', 1, null, {}]) await rejectsWith(Producer.open({ logDir, acceptConnections: bad as boolean }), 'ERR_INVALID_OPTION');
  const badConnect: unknown[] = [undefined, {}, { logDir: 5 }, { logDir, maxInFlightBytes: 10 }, { logDir, connectTimeoutMs: 0 }, { logDir, other: 1 }];
  for (const opts of badConnect) await rejectsWith(Producer.connect(opts as { logDir: string }), 'ERR_INVALID_OPTION');
  await rejectsWith(Producer.connect({ logDir }), 'ERR_LOG_CLOSED');
  await rejectsWith(Producer.connect({ logDir: join(logDir, 'missing') }), 'ERR_LOG_CLOSED');
  const p = await Producer.open({ logDir });
  await rejectsWith(Producer.connect({ logDir }), 'ERR_LOG_CLOSED');
  await p.close();
});

test.run();
