/**
 * The fault loop (fault-loop.test.ts, fault-loop-tx.test.ts) for a worker pool: a clientTx consumer
 * runs a handler MODULE (fixtures/fault-pool-handler.mjs) with { workers } 1 and 2 over a fault-free
 * log of RECORDS records, stripes of BATCH records. The handler answers 'retry' for every tenth record
 * (dead-lettered after two attempts) and records each other record it runs in a side file (ctx.setState
 * is refused in a pool, and a pool may repeat a handler's effects, so the test checks coverage, not
 * counts). Under a fault at file call N (main thread: cursor, locks, the coordinator's reads, the
 * dead-letter producer's own calls; writer thread: the dead-letter log's writer; worker threads: the
 * lanes reading their records), every failure must be a coded LogError and no call may hang; then,
 * without faults, every record below the reopened cursor must have run (or, failing, have its dead
 * letter), no dead letter twice, and the rest of the log read to its end leaves one dead letter per
 * failing record. A call that failed is made again on the same consumer, up to three calls (its
 * pool's threads keep their readers of the log). Each sampled call number runs with 1 or 2 workers, drawn.
 * npm test runs a seeded sample of the call numbers (FAULT_LOOP_SAMPLE=1 runs all; SEED replays a sample).
 */
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { suite, tempDir, prng, logOf } from './kit.js';
import { clearFaults, setFaults, type FaultOp, type FaultRule } from './faults.js';
import { Census, bounded, deadLetterOffsets, describeFired, faulted } from './fault-loop-kit.js';

const test = suite('fault-loop-pool');
const SEED = Number(process.env.SEED ?? Date.now() % 1_000_000);
const SAMPLE = Number(process.env.FAULT_LOOP_SAMPLE ?? 0.02);
console.log(`  pool fault loop seed ${SEED} (SEED=${SEED} replays), sample ${SAMPLE} of the call numbers (FAULT_LOOP_SAMPLE=1 runs all)`);
const sampling = prng(SEED + 11);
const sampled = (n: number): boolean => n <= 1 || sampling() < SAMPLE;
/** The workers of a sampled run: 1 or 2, drawn (FAULT_LOOP_SAMPLE=1 runs both). */
const workersOf = (): number[] => (SAMPLE >= 1 ? [1, 2] : [sampling() < 0.5 ? 1 : 2]);

const HANDLER = fileURLToPath(new URL('./fixtures/fault-pool-handler.mjs', import.meta.url));
const RECORDS = 40;
const BATCH = 4;
const CURSOR = 'faulty';
const FAULT_CODES = ['ERR_IO', 'ERR_DISK_FULL', 'ERR_WRITER_FAILED', 'ERR_WORKER_FAILED'];
const failing = (offset: number): boolean => offset % 10 === 3;
const root = tempDir('rlog-faultloop-pool-');
const effectsDir = join(root, 'effects');
mkdirSync(effectsDir);
process.env.RL_FAULT_POOL_EFFECTS = effectsDir;
let source = '';
let runNo = 0;

function openConsumer(deadLetterDir: string): Promise<Consumer> {
  return Consumer.open({ logDir: source, style: ConsumerStyle.clientTx(CURSOR), retry: { maxAttempts: 2, deadLetterDir } });
}

/** The workload under the plan in force: open, process to the end in a pool, close (destroy if close failed). */
async function workload(deadLetterDir: string, workers: number): Promise<string[]> {
  const errors: string[] = [];
  let c: Consumer | null = null;
  await faulted(async () => { c = await openConsumer(deadLetterDir); }, 'Consumer.open', errors, FAULT_CODES);
  if (c === null) return errors;
  const consumer: Consumer = c;
  // A call that failed is made again on the same consumer (its pool's threads keep their readers), still under the plan.
  for (let call = 1; call <= 3; call++) {
    if (await faulted(() => consumer.nonblockingProcess(null, HANDLER, { workers, batchRecords: BATCH, timeoutMs: 10_000 }), `nonblockingProcess ${call}`, errors, FAULT_CODES)) break;
  }
  if (!await faulted(() => consumer.close(), 'close', errors, FAULT_CODES)) await bounded(consumer.destroy().catch(() => undefined), 'destroy');
  return errors;
}

function effects(): Set<number> {
  const file = join(effectsDir, 'effects');
  if (!existsSync(file)) return new Set();
  return new Set(readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map(Number));
}

/** Without faults: the cursor, the handler's effects and the dead letters agree, before and after reading the rest. */
async function verify(deadLetterDir: string, workers: number, label: string): Promise<void> {
  const c = await openConsumer(deadLetterDir);
  const at = c.committedOffset ?? 0;
  const ran = effects();
  const letters = await deadLetterOffsets(deadLetterDir);
  assert.equal(letters.length, new Set(letters).size, `${label}: a dead letter written twice: ${letters.join(',')}`);
  for (let o = 0; o < at; o++) {
    if (failing(o)) assert.ok(letters.includes(o), `${label}: record ${o} is below the cursor (${at}) without its dead letter`);
    else assert.ok(ran.has(o), `${label}: record ${o} is below the cursor (${at}) but its handler never ran`);
  }
  const s = await bounded(c.nonblockingProcess(null, HANDLER, { workers, batchRecords: BATCH }), `${label}: the rest`);
  assert.is(c.committedOffset, RECORDS, `${label}: the rest reads to the end (${JSON.stringify(s)})`);
  await c.close();
  const after = effects();
  for (let o = 0; o < RECORDS; o++) if (!failing(o)) assert.ok(after.has(o), `${label}: record ${o} never ran`);
  const all = await deadLetterOffsets(deadLetterDir);
  assert.equal([...all].sort((a, b) => a - b), Array.from({ length: RECORDS }, (_, o) => o).filter(failing), `${label}: one dead letter per failing record`);
}

async function runOnce(rule: FaultRule | null, workers: number, label: string): Promise<{ fired: string | null; errors: string[] }> {
  const dir = join(root, `run-${runNo++}`);
  mkdirSync(dir);
  rmSync(join(effectsDir, 'effects'), { force: true });
  const deadLetterDir = join(dir, 'dl');
  const trace = join(dir, 'trace');
  setFaults({ rules: rule === null ? [] : [rule], trace });
  let errors: string[];
  try {
    errors = await workload(deadLetterDir, workers);
  } catch (e) {
    throw new Error(`${label}: ${(e as Error).message}\n  injected at: ${describeFired(trace)}`, { cause: e });
  } finally {
    clearFaults();
  }
  const fired = describeFired(trace);
  try {
    await verify(deadLetterDir, workers, label);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n  injected at: ${fired}; errors ${JSON.stringify(errors)}`, { cause: e });
  }
  // The next run starts from the oldest record again.
  rmSync(join(source, 'cursors'), { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  if (process.env.FAULT_LOOP_VERBOSE) console.log(`    ${label}: ${fired}; ${JSON.stringify(errors)}`);
  return { fired: fired === 'nothing' ? null : fired, errors };
}

/** File calls of a fault-free run, by workers. */
const census = new Map<number, Census>();
const calls = (workers: number, thread: string, ops: readonly FaultOp[] | '*'): number => census.get(workers)!.calls(thread, ops);

test('count: a fault-free run and its file calls, 1 and 2 workers', async () => {
  source = await logOf(RECORDS);
  for (const workers of [1, 2]) {
    const dir = join(root, `census-${workers}`);
    mkdirSync(dir);
    rmSync(join(effectsDir, 'effects'), { force: true });
    const trace = join(dir, 'trace');
    setFaults({ rules: [], trace });
    let errors: string[];
    try {
      errors = await workload(join(dir, 'dl'), workers);
    } finally {
      clearFaults();
    }
    assert.equal(errors, []);
    census.set(workers, new Census(trace));
    console.log(`  ${workers} workers: main thread ${calls(workers, 'main', '*')} calls, dead-letter writer ${calls(workers, 'writer', '*')}, workers ${calls(workers, 'worker', '*')}`);
    assert.ok(calls(workers, 'writer', ['fdatasync', 'fsync']) >= 1, 'the workload must write dead letters');
    assert.ok(calls(workers, 'worker', ['read']) >= 1, 'the workers must read their records');
    await verify(join(dir, 'dl'), workers, `fault-free, ${workers} workers`);
    rmSync(join(source, 'cursors'), { recursive: true, force: true });
  }
});

async function loop(name: string, total: (workers: number) => number, make: (n: number) => FaultRule): Promise<void> {
  let fired = 0;
  let ran = 0;
  const t0 = Date.now();
  const all = Math.max(total(1), total(2));
  for (let n = 1; n <= all + 2; n++) {
    if (!sampled(n)) continue;
    for (const workers of workersOf()) {
      ran++;
      const r = await runOnce(make(n), workers, `${name} N=${n} workers ${workers}`);
      if (r.fired !== null) fired++;
    }
  }
  console.log(`  ${name}: ${ran} runs of ${all + 2} call numbers, ${fired} faults fired, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.ok(fired >= 1, `${name}: no fault fired in ${ran} runs`);
}

test('main thread: EIO at call N', async () => {
  await loop('main EIO', (w) => calls(w, 'main', '*'), (n) => ({ op: '*', thread: 'main', nth: n, effect: { errno: 'EIO' } }));
});

test('main thread: EIO from call N on', async () => {
  await loop('main EIO persistent', (w) => calls(w, 'main', '*'), (n) => ({ op: '*', thread: 'main', nth: n, persistent: true, effect: { errno: 'EIO' } }));
});

test('main thread: ENOSPC on the Nth write, sync or rename, unsynced pages dropped (cursor commits)', async () => {
  const ops: FaultOp[] = ['writev', 'fdatasync', 'fsync', 'rename'];
  await loop('main ENOSPC', (w) => calls(w, 'main', ops), (n) => ({ op: ops, thread: 'main', nth: n, effect: { errno: 'ENOSPC', dropUnsynced: true } }));
});

test('dead-letter writer: EIO at call N, unsynced pages dropped', async () => {
  await loop('writer EIO', (w) => calls(w, 'writer', '*'), (n) => ({ op: '*', thread: 'writer', nth: n, effect: { errno: 'EIO', dropUnsynced: true } }));
});

test('worker threads: EIO at call N (each worker counts its own calls)', async () => {
  await loop('worker EIO', (w) => calls(w, 'worker', '*'), (n) => ({ op: '*', thread: 'worker', nth: n, effect: { errno: 'EIO' } }));
});

test('worker threads: EIO from call N on', async () => {
  await loop('worker EIO persistent', (w) => calls(w, 'worker', '*'), (n) => ({ op: '*', thread: 'worker', nth: n, persistent: true, effect: { errno: 'EIO' } }));
});

test('any thread: EMFILE on the Nth open', async () => {
  await loop('EMFILE on open', (w) => Math.max(calls(w, 'main', ['open']), calls(w, 'writer', ['open']), calls(w, 'worker', ['open'])),
    (n) => ({ op: 'open', nth: n, effect: { errno: 'EMFILE' } }));
});


test.run();
