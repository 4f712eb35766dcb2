/**
 * The failure path of a pool's feeder on JetStream (src/consumer/pool-feeder.ts): the feeder pulls
 * the records from the consumer's reader into the round's shared window; when that read fails (the
 * server killed and staying away: ERR_IO once nothing succeeded for 2 x timeoutMs), the pool's call
 * rejects with that coded error within the bound, its lanes stop (no handler call after it), the
 * records already committed stay committed, and nothing hangs: destroy() settles, a later call
 * fails coded. Run for a blocking call (the feeder waits for records and the pull fails) and a
 * nonblocking one (the feeder must read past what the pull buffered before the kill). Skipped with a printed reason
 * without nats-server.
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer, Whence, isLogError } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir, waitFor } from './kit.js';
import { closeAfter, startNats, stopAllNats, runOrSkip, type NatsServer, within, killNats } from './nats-kit.js';

const handler = fileURLToPath(new URL('./fixtures/conformance-pool-handler.mjs', import.meta.url));
const TIMEOUT_MS = 1_000;
const test = suite('jetstream pool feeder failure');
const dirs: string[] = [];
test.after(async () => {
  await stopAllNats();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});



function seen(dir: string): number[] {
  const all: number[] = [];
  for (const f of readdirSync(dir).filter((name) => name.startsWith('seen-'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line !== '') all.push(Number(line));
  }
  return all.sort((a, b) => a - b);
}

/** A stream of `n` records "rec-<n>" (every third with a key and a header, as the handler checks). */
async function filled(own: NatsServer, stream: string, n: number): Promise<ReturnType<typeof jetstream>> {
  const backend = jetstream({ servers: own.url, stream, leaseMs: 30_000, timeoutMs: TIMEOUT_MS });
  const p = await Producer.open({ backend });
  await closeAfter(p, async () => {
    for (let i = 0; i < n; i++) p.append(`rec-${i}`, i % 3 === 0 ? { key: `k${i}`, headers: { h: `v${i}` } } : undefined);
    await p.flush();
  });
  return backend;
}

/** The call's failure: a coded ERR_IO naming the bound, not earlier than it and not long after. */
async function failsWithinBound(call: Promise<unknown>, killedAt: number): Promise<void> {
  const e = await within(call.then(() => null, (err: unknown) => err), 10 * TIMEOUT_MS, 'the pool call');
  const took = Date.now() - killedAt;
  assert.ok(e !== null, 'the pool call failed');
  assert.ok(isLogError(e), `a LogError, got ${String((e as Error)?.stack ?? e)}`);
  assert.is((e as { code: string }).code, 'ERR_IO', (e as Error).message);
  assert.match((e as Error).message, /2 x timeoutMs/);
  assert.ok(took >= 2 * TIMEOUT_MS && took < 6 * TIMEOUT_MS, `failed after the bound and not long after it (${took} ms)`);
}

/** After the failure: no handler call, destroy() settles, a later call fails coded at once. */
async function stoppedAfter(c: Consumer, dir: string): Promise<void> {
  const handled = seen(dir).length;
  const later = await within(c.nonblockingProcess(null, handler, { workers: 2 }).then(() => null, (e: unknown) => e), 6 * TIMEOUT_MS, 'a call after the failure');
  assert.ok(isLogError(later), `a later call fails coded: ${String(later)}`);
  process.stdout.write(`#   a later call: ${(later as { code: string }).code} ${(later as Error).message.slice(0, 120)}\n`);
  await within(c.destroy(), 3 * TIMEOUT_MS, 'destroy()');
  assert.is(seen(dir).length, handled, 'no handler call after the failure');
}

test('a blocking pool call waiting for records: the server killed and away, the call rejects with ERR_IO within the bound; the cursor keeps what was committed', async () => {
  const own = await startNats();
  const dir = tempDir('rlog-feeder-');
  dirs.push(dir);
  process.env.RL_CONF_POOL_DIR = dir;
  try {
    const backend = await filled(own, 'feeder-blocking', 50);
    const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('feeder') });
    const call = c.blockingProcess(null, handler, { workers: 2, batchRecords: 8 });
    call.catch(() => undefined);
    await waitFor(() => c.committedOffset === 50, 'the 50 records handled and committed');
    assert.equal(seen(dir), Array.from({ length: 50 }, (_, i) => i), 'each record handled once');
    await killNats(own);
    await failsWithinBound(call, Date.now());
    assert.is(c.committedOffset, 50, 'what was committed stays');
    await stoppedAfter(c, dir);
  } finally {
    await own.stop();
  }
});

test('a nonblocking pool call whose feeder must read on after the server was killed: the call rejects with ERR_IO within the bound; the lanes stop', async () => {
  const own = await startNats();
  const dir = tempDir('rlog-feeder-');
  dirs.push(dir);
  process.env.RL_CONF_POOL_DIR = dir;
  try {
    // 20,000 records of 1 KB: more than the window's arena (8 MiB), the pull's buffer (4,096
    // records) and a pull batch in flight hold together, so the feeder must read from the server
    // again after the kill. Record 10 hangs its handler call past the pool's timeoutMs: the
    // committed prefix stays there while the window and the pull's buffer fill, and the kill lands
    // mid-call.
    const N = 20_000;
    const backend = jetstream({ servers: own.url, stream: 'feeder-nonblocking', leaseMs: 30_000, timeoutMs: TIMEOUT_MS });
    const p = await Producer.open({ backend });
    const pad = 'x'.repeat(1000);
    for (let i = 0; i < N; i++) {
      p.append(`${i === 10 ? 'hang' : 'rec'}-${i}-${pad}`, i % 3 === 0 ? { key: `k${i}`, headers: { h: `v${i}` } } : undefined);
      if (i % 5000 === 4999) await p.flush();
    }
    await p.flush();
    await p.close();
    const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
    const call = c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 8, timeoutMs: 2_000 });
    call.catch(() => undefined);
    await waitFor(() => existsSync(join(dir, 'hung-10')), 'the handler call of record 10 hanging');
    await killNats(own);
    const killedAt = Date.now();
    const e = await within(call.then(() => null, (err: unknown) => err), 2_000 + 10 * TIMEOUT_MS, 'the pool call');
    assert.ok(e !== null, 'the pool call failed');
    assert.ok(isLogError(e), `a LogError, got ${String((e as Error)?.stack ?? e)}`);
    assert.is((e as { code: string }).code, 'ERR_IO', (e as Error).message);
    assert.match((e as Error).message, /2 x timeoutMs/);
    assert.ok(Date.now() - killedAt >= 2 * TIMEOUT_MS, 'not before the bound');
    const handled = new Set(seen(dir));
    assert.ok(handled.has(10) && handled.size > 100 && handled.size < N, `the call handled records past the hang and not all of them (${handled.size})`);
    await stoppedAfter(c, dir);
  } finally {
    await own.stop();
  }
});

runOrSkip(test, 'jetstream pool feeder failure');
