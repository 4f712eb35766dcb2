/**
 * Conformance, worker pools, on every backend: a processing call with a handler module and
 * `{ workers: 2 }` hands each record to a worker once, with its key, headers and timestamp, and
 * commits the contiguous prefix of finished records; skip, retry and dead letters as in the caller's
 * thread; a worker that exits mid-record or hangs past `timeoutMs` is replaced; `max` stops a call
 * exactly, and the next call goes on there; a blocking call handles records appended while it waits,
 * and ends on its signal and on close(). Locally the workers read the segment files; on JetStream the
 * records reach them through the round's shared window (docs/jetstream.md).
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConsumerStyle, Whence, decodeDeadLetter, type Consumer } from '../dist/index.js';
import { conformance, type AnyProducer, type LogUnderTest } from './conformance-kit.js';
import { tempDir, waitFor } from './kit.js';
import { guarded } from './pool-kit.js';

const handler = fileURLToPath(new URL('./fixtures/conformance-pool-handler.mjs', import.meta.url));

/** A log holding `texts` at offsets 0.., every third record with a key and a header (see the handler). */
async function filled(log: LogUnderTest, texts: readonly string[]): Promise<AnyProducer> {
  const p = await log.producer();
  appendAll(p, texts, 0);
  await p.flush();
  return p;
}

function appendAll(p: AnyProducer, texts: readonly string[], from: number): void {
  texts.forEach((t, i) => {
    const n = from + i;
    p.append(t, n % 3 === 0 ? { key: `k${n}`, headers: { h: `v${n}` } } : undefined);
  });
}

/** A fresh directory the handler logs the records it handled into (the workers read it from the environment). */
function seenDir(): string {
  const dir = tempDir('rlog-conf-pool-');
  process.env.RL_CONF_POOL_DIR = dir; // before the consumer's pool starts its threads
  return dir;
}

/** The offsets the handler logged, sorted (a record handled twice appears twice). */
function seen(dir: string): number[] {
  const all: number[] = [];
  for (const f of readdirSync(dir).filter((name) => name.startsWith('seen-'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line !== '') all.push(Number(line));
  }
  return all.sort((a, b) => a - b);
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

async function closeAll(c: Consumer, p: AnyProducer): Promise<void> {
  try {
    await c.close();
  } finally {
    await p.close();
  }
}

/** 3,000 records through a pool of 2 workers: each handled once, all committed, nothing left after a reopen. */
async function everyRecordOnce(log: LogUnderTest, style: ConsumerStyle): Promise<void> {
  const N = 3000;
  const p = await filled(log, range(0, N).map((n) => `rec-${n}`));
  const dir = seenDir();
  const c = await log.consumer(style);
  try {
    const s = await guarded(c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 50 }));
    assert.equal(s, { committed: N, skipped: 0, retried: 0, stoppedBy: 'end' });
    assert.is(c.committedOffset, N);
    assert.equal(seen(dir), range(0, N), 'each record handled once');
  } finally {
    await c.close();
  }
  const again = await log.consumer(style);
  try {
    assert.equal(await again.nonblockingProcess(null, () => 'commit'), { committed: 0, skipped: 0, retried: 0, stoppedBy: 'end' }, 'nothing is left to deliver');
  } finally {
    await closeAll(again, p);
  }
}

conformance('conformance: pool', (test, b) => {
  for (const [name, style] of [['clientTx', ConsumerStyle.clientTx('pool')], ['globalTx', ConsumerStyle.globalTx()]] as const) {
    test(`${name} with a pool of 2 workers: every record handled once, with its key and headers; the cursor at the end`, async () => {
      await everyRecordOnce(await b.fresh(), style);
    });
  }

  test('outcomes in a pool: skip, retry and dead letters as in the caller\'s thread', async () => {
    const log = await b.fresh();
    const kind = (n: number): string => (n % 100 === 23 ? 'fail' : n % 50 === 7 ? 'skip' : n % 50 === 11 ? 'retry' : 'rec');
    const p = await filled(log, range(0, 300).map((n) => `${kind(n)}-${n}`));
    const dir = seenDir();
    const deadLetterDir = join(tempDir(), 'dlq');
    const c = await log.consumer(ConsumerStyle.clientTx('outcomes'), { retry: { maxAttempts: 2, deadLetterDir } });
    try {
      const s = await guarded(c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 20 }));
      // 6 skipped and 3 dead letters (counted as skipped); 6 records retried once, 3 twice before their dead letter.
      assert.equal(s, { committed: 291, skipped: 9, retried: 12, stoppedBy: 'end' });
      assert.is(c.committedOffset, 300);
      assert.equal(seen(dir), range(0, 300).filter((n) => kind(n) !== 'fail'));
    } finally {
      await closeAll(c, p);
    }
    const { Consumer } = await import('../dist/index.js');
    const dl = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    try {
      assert.equal([...dl.iter()].map((m) => decodeDeadLetter(m.data).offset), [23, 123, 223]);
    } finally {
      await dl.close();
    }
  });

  test('a worker that exits mid-record: its lane starts again at its first unfinished record, nothing lost, nothing committed twice', async () => {
    const log = await b.fresh();
    const kind = (n: number): string => (n === 130 || n === 555 ? 'crash' : 'rec');
    const p = await filled(log, range(0, 800).map((n) => `${kind(n)}-${n}`));
    const dir = seenDir();
    const c = await log.consumer(ConsumerStyle.clientTx('crash'));
    try {
      const s = await guarded(c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 25 }));
      assert.equal(s, { committed: 800, skipped: 0, retried: 0, stoppedBy: 'end' });
      assert.is(c.committedOffset, 800);
      // Records the lane finished after its last progress report are handled again (effects may repeat), not committed again.
      assert.equal([...new Set(seen(dir))], range(0, 800));
      assert.ok(existsSync(join(dir, 'crashed-130')) && existsSync(join(dir, 'crashed-555')), 'the workers exited');
    } finally {
      await closeAll(c, p);
    }
  });

  test('a handler call past timeoutMs: its worker is replaced and its lane starts again there', async () => {
    const log = await b.fresh();
    const p = await filled(log, range(0, 200).map((n) => `${n === 70 ? 'hang' : 'rec'}-${n}`));
    const dir = seenDir();
    const c = await log.consumer(ConsumerStyle.clientTx('hang'));
    try {
      const s = await guarded(c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 10, timeoutMs: 500 }));
      assert.equal(s, { committed: 200, skipped: 0, retried: 0, stoppedBy: 'end' });
      assert.is(c.committedOffset, 200);
      assert.equal([...new Set(seen(dir))], range(0, 200));
      assert.ok(existsSync(join(dir, 'hung-70')), 'the call hung once');
    } finally {
      await closeAll(c, p);
    }
  });

  test('close() during a blocking pool call ends it; the next consumer goes on from what was committed', async () => {
    const log = await b.fresh();
    const p = await filled(log, range(0, 100).map((n) => `rec-${n}`));
    const dir = seenDir();
    const c = await log.consumer(ConsumerStyle.clientTx('close'));
    let closed = false;
    try {
      const call = guarded(c.blockingProcess(null, handler, { workers: 2, batchRecords: 16 }));
      await waitFor(() => seen(dir).length === 100, 'the 100 records handled');
      await c.close();
      closed = true;
      const s = await call;
      assert.equal(s, { committed: 100, skipped: 0, retried: 0, stoppedBy: 'end' });
      appendAll(p, range(100, 150).map((n) => `rec-${n}`), 100);
      await p.flush();
      const next = await log.consumer(ConsumerStyle.clientTx('close'));
      const rest: number[] = [];
      try {
        await next.nonblockingProcess(null, (m) => { rest.push(m.offset); return 'commit'; });
      } finally {
        await next.close();
      }
      assert.equal(rest, range(100, 150));
    } finally {
      if (!closed) await c.close();
      await p.close();
    }
  });

  test('max stops a pool call exactly; calls in the caller\'s thread and in the pool follow each other exactly', async () => {
    const log = await b.fresh();
    const p = await filled(log, range(0, 1000).map((n) => `rec-${n}`));
    const dir = seenDir();
    const c = await log.consumer(ConsumerStyle.clientTx('max'));
    try {
      // 'break' leaves record 4 in hand: the pool call after it starts there.
      assert.equal(await c.nonblockingProcess(null, (m) => (m.offset === 4 ? 'break' : 'commit')), { committed: 4, skipped: 0, retried: 0, stoppedBy: 'break' });
      assert.equal(await c.nonblockingProcess(0, handler, { workers: 2 }), { committed: 0, skipped: 0, retried: 0, stoppedBy: 'limit' });
      const s = await guarded(c.nonblockingProcess(100, handler, { workers: 2, batchRecords: 10 }));
      assert.equal(s, { committed: 100, skipped: 0, retried: 0, stoppedBy: 'limit' });
      assert.is(c.committedOffset, 104);
      assert.equal(seen(dir), range(4, 104));
      const rest: number[] = [];
      await c.nonblockingProcess(null, (m) => { rest.push(m.offset); return 'commit'; });
      assert.equal(rest, range(104, 1000), 'the records the pool read ahead come again, in order, once');
    } finally {
      await closeAll(c, p);
    }
  });

  test('records of 700 KB pass through a pool, more of them than the JetStream window holds at once', async () => {
    const log = await b.fresh();
    const N = 40; // 28 MB: the JetStream window's arena holds 8 MiB, so the feeder waits for room and wraps
    const p = await log.producer();
    for (let n = 0; n < N; n++) {
      appendAll(p, [`big-${n}-${String.fromCharCode(97 + (n % 26)).repeat(700_000)}`], n);
      if (n % 8 === 7) await p.flush(); // the JetStream producer's queue holds 32 MiB
    }
    await p.flush();
    const dir = seenDir();
    const c = await log.consumer(ConsumerStyle.clientTx('big'));
    try {
      const s = await guarded(c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 3 }));
      assert.equal(s, { committed: N, skipped: 0, retried: 0, stoppedBy: 'end' });
      assert.is(c.committedOffset, N);
      assert.equal(seen(dir), range(0, N));
    } finally {
      await closeAll(c, p);
    }
  });

  test('a blocking pool call handles records appended while it waits, each once; abort ends it', async () => {
    const log = await b.fresh();
    const p = await filled(log, range(0, 50).map((n) => `rec-${n}`));
    const dir = seenDir();
    const c = await log.consumer(ConsumerStyle.clientTx('blocking'));
    try {
      const ac = new AbortController();
      const call = guarded(c.blockingProcess(null, handler, { workers: 2, batchRecords: 16, signal: ac.signal }));
      await waitFor(() => seen(dir).length === 50, 'the first 50 records handled');
      appendAll(p, range(50, 200).map((n) => `rec-${n}`), 50);
      await p.flush();
      await waitFor(() => seen(dir).length === 200, 'the records appended later handled');
      ac.abort();
      const s = await call;
      assert.equal(s, { committed: 200, skipped: 0, retried: 0, stoppedBy: 'abort' });
      assert.is(c.committedOffset, 200);
      assert.equal(seen(dir), range(0, 200));
    } finally {
      await closeAll(c, p);
    }
  });
});
