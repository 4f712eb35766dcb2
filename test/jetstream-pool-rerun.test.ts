/**
 * A pool call on JetStream whose server goes away mid-call (SIGKILLed, or SIGSTOPped: paused) past the
 * ride bound: the call rejects with ERR_IO once its commit got nothing through for 2 x timeoutMs.
 * While that commit is in doubt (its first try failed) the lanes hold: no handler call begins after
 * that, so the records run again on the cursor's next call are at most those finished while the
 * commit's first try was pending (about timeoutMs of work), not everything the call read ahead (up to
 * 65,536 records) during the whole ride. And whatever ran twice, the exactly-once cursor counts every
 * record once: the first owner's durable cursor plus the next call's commits make the stream's
 * length, with no record passed over. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer, isLogError } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir, waitFor } from './kit.js';
import { killNats, pauseNats, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const handler = fileURLToPath(new URL('./fixtures/rerun-pool-handler.mjs', import.meta.url));
const TIMEOUT_MS = 1_000;
const N = 3_000; // about 7.5 s of work for 2 workers: the call is mid-run when the server goes away, and stays so
const test = suite('jetstream pool rerun');
const dirs: string[] = [];
test.after(async () => {
  await stopAllNats();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every handler call that ended: its record and when it began (ms). */
function seen(dir: string): Array<{ offset: number; began: number }> {
  const all: Array<{ offset: number; began: number }> = [];
  for (const f of readdirSync(dir).filter((name) => name.startsWith('seen-'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (line === '') continue;
      const [offset, began] = line.split(' ').map(Number);
      all.push({ offset, began });
    }
  }
  return all;
}

/** Opens the cursor again once the first owner's lease (not released: the server was away) has expired. */
async function reopen(backend: ReturnType<typeof jetstream>): Promise<Consumer> {
  let c: Consumer | null = null;
  await waitFor(async () => {
    try {
      c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('r') });
      return true;
    } catch (e) {
      if (isLogError(e) && e.code === 'ERR_CURSOR_LOCKED') return false;
      throw e;
    }
  }, 'the cursor to be free again', 30_000);
  return c!;
}

for (const [how, blocking] of [['killed', false], ['paused', true]] as const) {
  test(`a ${blocking ? 'blocking' : 'nonblocking'} pool call, the server ${how} past the bound: no handler call begins once the commit is in doubt; the cursor counts each record once`, async () => {
    let own: NatsServer = await startNats();
    const dir = tempDir('rlog-js-pool-rerun-');
    const dir2 = tempDir('rlog-js-pool-rerun-next-'); // the next call's threads note their records here
    dirs.push(dir, dir2);
    process.env.RL_RERUN_DIR = dir;
    try {
      const backend = jetstream({ servers: own.url, stream: `rerun-${how}`, leaseMs: 3_000, timeoutMs: TIMEOUT_MS });
      const p = await Producer.open({ backend });
      for (let i = 0; i < N; i++) p.append(`rec-${i}`);
      await p.flush();
      await p.close();
      const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('r') });
      const opts = { workers: 2, batchRecords: 64, timeoutMs: 30_000 };
      const call = (blocking ? c.blockingProcess(null, handler, opts) : c.nonblockingProcess(null, handler, opts))
        .then((v) => v, (e: unknown) => e);
      await waitFor(() => seen(dir).length >= 300, '300 records handled', 30_000);
      if (how === 'killed') await killNats(own);
      else await pauseNats(own);
      const awayAt = Date.now();
      const e = await within(call, 20 * TIMEOUT_MS, 'the call');
      assert.ok(isLogError(e) && e.code === 'ERR_IO', `the call rejects with ERR_IO, got ${String((e as Error)?.stack ?? JSON.stringify(e))}`);
      await c.destroy(); // its pool's threads stopped: `first` is all the first owner handled
      const first = seen(dir);
      // The commit in flight when the server went away fails its first try within timeoutMs; from then
      // on the lanes hold until the ride gives up (2 x timeoutMs later). A second of slack for a busy machine.
      const late = first.filter((r) => r.began > awayAt + 2 * TIMEOUT_MS);
      assert.equal(late.map((r) => r.offset), [], 'no handler call began once the commit was in doubt');
      assert.ok(first.length < N, `the call stopped short of the end (${first.length} handled)`);
      if (how === 'killed') own = await startNats(15_000, own);
      else own.proc.kill('SIGCONT');

      process.env.RL_RERUN_DIR = dir2; // the next pool's threads start with it
      const c2 = await reopen(backend);
      try {
        const from = c2.committedOffset!;
        const s = await within(c2.nonblockingProcess(null, handler, { workers: 2, batchRecords: 64 }), 60_000, 'the next call');
        // Every record committed once: the first owner's durable cursor, then the next call's commits.
        assert.is(from + s.committed, N, `reopened at ${from}, then ${s.committed} committed`);
        assert.is(c2.committedOffset, N);
        const second = seen(dir2).map((r) => r.offset);
        assert.is(new Set(second).size, second.length, 'the next call handles each record once');
        const handled = new Set([...first.map((r) => r.offset), ...second]);
        assert.is(handled.size, N, 'no record passed over');
        assert.ok(first.every((r) => r.offset < N), 'only records of the stream');
        const before = new Set(first.map((r) => r.offset));
        assert.is(before.size, first.length, 'the first call handled each record once');
        const twice = second.filter((o) => before.has(o));
        assert.ok(twice.every((o) => o >= from), 'no committed record runs again');
        process.stdout.write(`#   ${how}: ${first.length} handled before the call failed, the cursor at ${from}, ${twice.length} ran again\n`);
      } finally {
        await c2.close();
      }
    } finally {
      await own.stop();
    }
  });
}

runOrSkip(test, 'jetstream pool rerun');
