/**
 * Consumer worker pools, faults: the hung-handler watch after a lane lost its worker, close()
 * during a blocking pool call, a pool thread that cannot start.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Producer, Consumer, ConsumerStyle, SyncPolicy } from '../dist/index.js';
import { POOL_LOG, guarded, handler } from './pool-kit.js';
import { suite, logOf, tempDir, rejectsWith, waitFor } from './kit.js';

const test = suite('pool-faults');


test('a handler that hangs after its lane lost a worker mid-call is still stopped after timeoutMs', async () => {
  // Records 10 and 20 are in lane 0's first stripe: its worker exits during record 10, the new one
  // hangs on record 20.
  const records = Array.from({ length: 200 }, (_, i) => (i === 10 ? `crash-${i}` : i === 20 ? `hang-${i}` : `rec-${i}`));
  const logDir = await logOf(records, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('crash-hang') });
  const s = await guarded(c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 50, timeoutMs: 300 }));
  if (s === 'stuck') assert.unreachable('the call did not end: the hung handler was never stopped');
  else assert.equal(s, { committed: 200, skipped: 0, retried: 0, stoppedBy: 'end' });
  assert.ok(existsSync(join(logDir, 'crashed-10')) && existsSync(join(logDir, 'hung-20')), 'a worker exited on 10, one hung on 20');
  await c.close();
});

test('5 different records each losing their worker once, within one progress report, do not fail the call', async () => {
  // Lane 0 reports its progress every 32 records: the exits on records 11 to 15 all happen before its
  // first report, yet each is a different record's first loss.
  const records = Array.from({ length: 300 }, (_, i) => (i >= 11 && i <= 15 ? `crash-${i}` : `rec-${i}`));
  const logDir = await logOf(records, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('five') });
  const s = await guarded(c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 50 }).then((v) => v, (e: unknown) => e as Error));
  if (s === 'stuck') assert.unreachable('the call did not end');
  else if (s instanceof Error) assert.unreachable(`the call rejected: ${(s as Error & { code?: string }).code} ${s.message}`);
  else assert.equal(s, { committed: 300, skipped: 0, retried: 0, stoppedBy: 'end' });
  for (let i = 11; i <= 15; i++) assert.ok(existsSync(join(logDir, `crashed-${i}`)), `a worker exited on record ${i}`);
  await c.close();
});

test('a record whose worker exits every time rejects the call with ERR_WORKER_FAILED naming it', async () => {
  const records = Array.from({ length: 300 }, (_, i) => (i === 140 ? `die-${i}` : `rec-${i}`));
  const logDir = await logOf(records, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('die') });
  const e = await rejectsWith(c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 50 }), 'ERR_WORKER_FAILED');
  assert.match(e.message, /^record 140: /);
  assert.ok(c.committedOffset! <= 140, 'nothing past the record is committed');
  await c.close();
});

test('close() during a blocking pool call ends the call (stoppedBy end), as it does without a pool', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('close'), commit: { everyRecords: 1 } });
  const run = c.blockingProcess(null, handler, { workers: 2, batchRecords: 16 }).then((v) => v, (e: unknown) => e as Error);
  for (let i = 0; i < 100; i++) p.append(`rec-${i}`);
  await p.flush();
  await waitFor(() => (c.committedOffset ?? 0) >= 100, 'the records committed');
  await c.close();
  const s = await guarded(run);
  if (s === 'stuck') assert.unreachable('the call did not end');
  else if (s instanceof Error) assert.unreachable(`the call rejected: ${(s as Error & { code?: string }).code} ${s.message}`);
  else assert.equal(s, { committed: 100, skipped: 0, retried: 0, stoppedBy: 'end' });
  await p.close();
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('close') });
  assert.is(again.committedOffset, 100);
  await again.close();
});

test('close() while a pool handler runs: close waits for it, its commit lands, the summary counts it', async () => {
  // One worker runs one lane, so records 0 to 39 are done when record 40 waits: it is the record in
  // flight. The worker waits in record 40 until the test opens the gate, after close().
  const records = Array.from({ length: 100 }, (_, i) => (i === 40 ? `gate-${i}` : `rec-${i}`));
  const logDir = await logOf(records, POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('gate') });
  const order: string[] = [];
  const run = c.nonblockingProcess(null, handler, { workers: 1, batchRecords: 16 })
    .then((v) => { order.push('summary'); return v; }, (e: unknown) => e as Error);
  await waitFor(() => existsSync(join(logDir, 'gated-40')), 'the handler to wait in record 40');
  const closing = c.close().then(() => { order.push('closed'); });
  await rejectsWith(() => Consumer.open({ logDir, style: ConsumerStyle.clientTx('gate') }), 'ERR_CURSOR_LOCKED');
  writeFileSync(join(logDir, 'gate-open'), '');
  const s = await guarded(run);
  await guarded(closing);
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('gate') });
  assert.is(again.committedOffset, 41, "record 40's commit landed");
  await again.close();
  if (s === 'stuck') assert.unreachable('the call did not end');
  else if (s instanceof Error) assert.unreachable(`the call rejected: ${(s as Error & { code?: string }).code} ${s.message}`);
  else assert.equal(s, { committed: 41, skipped: 0, retried: 0, stoppedBy: 'end' });
  assert.equal(order, ['summary', 'closed'], 'the call returns, then close() finishes');
});

test('close() while one of two lanes waits in a handler: the summary counts exactly the contiguous prefix that was committed', async () => {
  // Lane 0 waits in record 40; lane 1 holds stripes 16-31, 48-63, ... and may be anywhere meanwhile.
  // Whatever it finished out of order past the first unfinished record is neither committed nor counted.
  const logDir = await logOf(Array.from({ length: 100 }, (_, i) => (i === 40 ? `gate-${i}` : `rec-${i}`)), POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('gate') });
  const run = c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 16 }).then((v) => v, (e: unknown) => e as Error);
  await waitFor(() => existsSync(join(logDir, 'gated-40')), 'the handler to wait in record 40');
  const closing = c.close();
  writeFileSync(join(logDir, 'gate-open'), '');
  const s = await guarded(run);
  await guarded(closing);
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('gate') });
  const committed = again.committedOffset!;
  await again.close();
  if (s === 'stuck' || s instanceof Error) assert.unreachable(`the call did not return a summary: ${String(s)}`);
  else assert.equal(s, { committed, skipped: 0, retried: 0, stoppedBy: 'end' });
  assert.ok(committed >= 16 && committed <= 100, `lane 0's first stripe and at most the log: ${committed}`);
});

test('close() or abort during a pool call whose record is retried forever ends the call; the record is not completed', async () => {
  for (const how of ['close', 'abort'] as const) {
    const logDir = await logOf(Array.from({ length: 10 }, (_, i) => (i === 5 ? `retry-${i}` : `rec-${i}`)), POOL_LOG);
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx(how) });
    const ac = new AbortController();
    const run = c.blockingProcess(null, handler, { workers: 1, signal: ac.signal }).then((v) => v, (e: unknown) => e as Error);
    await waitFor(() => existsSync(join(logDir, 'retrying-5')), 'record 5 to be retried');
    if (how === 'close') await c.close();
    else ac.abort();
    const s = await guarded(run);
    if (s === 'stuck') assert.unreachable(`${how}: the call did not end`);
    else if (s instanceof Error) assert.unreachable(`${how}: the call rejected: ${(s as Error & { code?: string }).code} ${s.message}`);
    else {
      assert.is(s.committed, 5, how);
      assert.ok(s.retried >= 1, `${how}: retried ${s.retried}`);
      assert.is(s.stoppedBy, how === 'close' ? 'end' : 'abort');
    }
    await c.close();
    const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx(how) });
    assert.is(again.committedOffset, 5, `${how}: the records before it are committed, not record 5`);
    await again.close();
  }
});

test('a lane that lost its worker mid-call and then waits for records is not taken for hung', async () => {
  // Lane 0 (stripes of 400) loses its worker on record 10, finishes its stripe, then waits for record
  // 800. Meanwhile lane 1 hangs on 8 records in turn, each stopped after timeoutMs: lane 0 waits that
  // long (no handler call running), which must not get its worker replaced (5 times: ERR_WORKER_FAILED).
  const hangs = new Set([440, 480, 520, 560, 600, 640, 680, 720]);
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('idle'), commit: { everyRecords: 1 } });
  const ac = new AbortController();
  const run = c.blockingProcess(null, handler, { workers: 2, batchRecords: 400, timeoutMs: 200, signal: ac.signal })
    .then((v) => v, (e: unknown) => e as Error);
  for (let i = 0; i < 800; i++) p.append(i === 10 ? `crash-${i}` : hangs.has(i) ? `hang-${i}` : `rec-${i}`);
  await p.flush();
  let ended = false;
  void run.then(() => { ended = true; });
  await waitFor(() => ended || (c.committedOffset ?? 0) >= 800, 'the records committed, or the call ended', 20_000);
  ac.abort();
  const s = await guarded(run);
  if (s === 'stuck') assert.unreachable('the call did not end');
  else if (s instanceof Error) assert.unreachable(`the call rejected: ${(s as Error & { code?: string }).code} ${s.message}`);
  else assert.equal(s, { committed: 800, skipped: 0, retried: 0, stoppedBy: 'abort' });
  assert.ok(existsSync(join(logDir, 'crashed-10')) && existsSync(join(logDir, 'hung-720')), 'a worker exited on 10, others hung on 440 to 720');
  await c.close();
  await p.close();
});

test('the producer of this process closed and reopened during a blocking pool call: the pool follows the new one', async () => {
  const logDir = tempDir();
  let p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('reopened'), commit: { everyRecords: 1 } });
  const ac = new AbortController();
  const run = c.blockingProcess(null, handler, { workers: 2, batchRecords: 16, signal: ac.signal });
  for (let i = 0; i < 50; i++) p.append(`rec-${i}`);
  await p.flush();
  await waitFor(() => (c.committedOffset ?? 0) >= 50, 'the first 50 committed');
  await p.close();
  p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  for (let i = 50; i < 100; i++) p.append(`rec-${i}`);
  await p.flush();
  await waitFor(() => (c.committedOffset ?? 0) >= 100, 'the 50 appended by the new producer committed');
  ac.abort();
  assert.equal(await run, { committed: 100, skipped: 0, retried: 0, stoppedBy: 'abort' });
  await c.close();
  await p.close();
});

test('the pool worker module deleted from the temporary directory (a cleaner): the next pool writes it anew', () => {
  // In a child process with a temporary directory of its own (TMPDIR): the folder its first pool
  // writes is the one new folder there, whatever other processes write to the system's.
  const dir = tempDir();
  mkdirSync(join(dir, 'tmp'));
  writeFileSync(join(dir, 'handler.mjs'), 'export default () => "commit";\n');
  const script = `
    import { readdirSync, rmSync } from 'node:fs';
    import { tmpdir } from 'node:os';
    import { join } from 'node:path';
    import { Producer, Consumer, ConsumerStyle } from ${JSON.stringify(fileURLToPath(new URL('../dist/index.js', import.meta.url)))};
    const logDir = ${JSON.stringify(join(dir, 'log'))};
    const handler = ${JSON.stringify(join(dir, 'handler.mjs'))};
    const ours = () => readdirSync(tmpdir()).filter((n) => n.startsWith('reactive-log-'));
    const before = new Set(ours());
    const p = await Producer.open({ logDir });
    for (let i = 0; i < 10; i++) p.append('r' + i);
    await p.close();
    const committed = [];
    for (const id of ['first', 'second']) {
      const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx(id) });
      committed.push((await c.nonblockingProcess(10, handler, { workers: 1 })).committed);
      await c.close();
      const fresh = ours().filter((n) => !before.has(n));
      if (id === 'first') {
        if (fresh.length !== 1) throw new Error('expected one new reactive-log-* folder, found ' + fresh.length);
        rmSync(join(tmpdir(), fresh[0]), { recursive: true, force: true });
      }
    }
    console.log(JSON.stringify(committed));
  `;
  const env = { ...process.env, TMPDIR: join(dir, 'tmp') };
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, env });
  assert.is(r.status, 0, `exit ${r.status ?? r.signal}: ${r.stderr}`);
  assert.equal(JSON.parse(r.stdout.trim()), [10, 10]);
});

/**
 * Runs, in a child process, a pool call of 2 workers over 10 records with a copy of dist/ changed by
 * `patch` (applied to the one ESM file it changes); returns the child's output.
 */
function poolCallWithPatchedDist(patch: (text: string) => string | null, workers = 2): string {
  const dir = tempDir();
  cpSync(fileURLToPath(new URL('../dist', import.meta.url)), join(dir, 'dist'), { recursive: true });
  const patched = readdirSync(join(dir, 'dist')).filter((f) => f.endsWith('.js')).filter((f) => {
    const text = patch(readFileSync(join(dir, 'dist', f), 'utf8'));
    if (text === null) return false;
    writeFileSync(join(dir, 'dist', f), text);
    return true;
  });
  assert.is(patched.length, 1, 'the patch applies to one ESM file of dist/');
  symlinkSync(fileURLToPath(new URL('../node_modules', import.meta.url)), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
  writeFileSync(join(dir, 'handler.mjs'), 'export default () => "commit";\n');
  writeFileSync(join(dir, 'main.mjs'), `
    import { Producer, Consumer, ConsumerStyle } from './dist/index.js';
    const logDir = ${JSON.stringify(join(dir, 'log'))};
    const p = await Producer.open({ logDir });
    for (let i = 0; i < 10; i++) p.append('r' + i);
    await p.close();
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('a') });
    try {
      await c.nonblockingProcess(10, new URL('./handler.mjs', import.meta.url), { workers: ${workers} });
      console.log('no error');
    } catch (e) {
      console.log('caught ' + e.code + ' committed ' + c.committedOffset);
    }
    await c.close();
    console.log('closed');
  `);
  const r = spawnSync(process.execPath, [join(dir, 'main.mjs')], { encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, `exit ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout.trim();
}

test('a pool worker module that is broken fails the call with ERR_WORKER_FAILED, not the process', () => {
  // The embedded pool worker throws on its first line (its banner comment replaced): each task fails
  // to load it. In a child process: an error of piscina, unheard, would end the process that holds the consumer.
  const out = poolCallWithPatchedDist((t) => (t.includes('// reactive-log pool worker') ? t.replace('// reactive-log pool worker', 'throw RangeError();//') : null));
  assert.is(out, 'caught ERR_WORKER_FAILED committed 0\nclosed');
});

test('a pool worker module that cannot be found fails the call with ERR_WORKER_FAILED: the call does not hang', () => {
  // The pool worker module is written beside the path the tasks name (every task fails to load it).
  // When the pool was stopped on a thread that could not start, a lane lost that way was relaunched
  // on the stopped pool and its task never settled: the call hung.
  for (const workers of [1, 2]) {
    const out = poolCallWithPatchedDist((t) => (/writeFileSync\(path, code,/.test(t) ? t.replace(/writeFileSync\(path, code,/, 'writeFileSync(path + ".elsewhere", code,') : null), workers);
    assert.is(out, 'caught ERR_WORKER_FAILED committed 0\nclosed', `${workers} worker(s)`);
  }
});

test.run();
