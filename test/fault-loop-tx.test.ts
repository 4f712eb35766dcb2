/**
 * The fault loop (fault-loop.test.ts) for a transactional consumer: its cursor file, its state and its
 * dead-letter log. The workload reads a fault-free log of RECORDS records with a clientTx consumer
 * (group commit every COMMIT_EVERY records, state committed with the cursor), whose handler counts
 * each record into its state and answers 'retry' for every tenth record, which goes to the
 * dead-letter log after two attempts. Under a fault at file call N (main thread: cursor, locks,
 * reads, the dead-letter producer's own calls; writer thread: the dead-letter log's writer), every
 * failure must be a coded LogError and no call may hang; then, without faults, the cursor must
 * reopen with a state that counts exactly the records below it (none twice, none passed over), every
 * dead-lettered record below it must have its dead letter, none twice, and the rest of the log read
 * to its end must leave the state and the dead letters complete.
 * npm test runs a seeded sample of the call numbers (an eighth; FAULT_LOOP_SAMPLE=1, as `npm run test:soak`
 * sets it, runs all; SEED replays a sample).
 */
import * as assert from 'uvu/assert';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, type Message, type ProcessContext } from '../dist/index.js';
import { suite, tempDir, prng, logOf } from './kit.js';
import { clearFaults, setFaults, type FaultOp, type FaultRule } from './faults.js';
import { Census, bounded, deadLetterOffsets, describeFired, faulted } from './fault-loop-kit.js';

const test = suite('fault-loop-tx');
const SEED = Number(process.env.SEED ?? Date.now() % 1_000_000);
const SAMPLE = Number(process.env.FAULT_LOOP_SAMPLE ?? 0.12);
console.log(`  tx fault loop seed ${SEED} (SEED=${SEED} replays), sample ${SAMPLE} of the call numbers (FAULT_LOOP_SAMPLE=1 runs all)`);
const sampling = prng(SEED + 7);
const sampled = (n: number): boolean => n <= 4 || sampling() < SAMPLE;

const RECORDS = 40;
const COMMIT_EVERY = 4;
const CURSOR = 'faulty';
const FAULT_CODES = ['ERR_IO', 'ERR_DISK_FULL', 'ERR_WRITER_FAILED'];
const failing = (offset: number): boolean => offset % 10 === 3;
const root = tempDir('rlog-faultloop-tx-');
let source = '';
let runNo = 0;

type State = [count: number, sum: number];
const decodeState = (s: Uint8Array | null): State => (s === null ? [0, 0] : JSON.parse(Buffer.from(s).toString()) as State);
/** The state after every record below `end` was handled once. */
function expectedState(end: number): State {
  let count = 0;
  let sum = 0;
  for (let o = 0; o < end; o++) if (!failing(o)) { count++; sum += o; }
  return [count, sum];
}

function handler(m: Message, ctx: ProcessContext): 'commit' | 'retry' {
  if (failing(m.offset)) return 'retry';
  const [count, sum] = decodeState(ctx.state);
  ctx.setState(JSON.stringify([count + 1, sum + m.offset]));
  return 'commit';
}

function openConsumer(deadLetterDir: string): Promise<Consumer> {
  return Consumer.open({ logDir: source, style: ConsumerStyle.clientTx(CURSOR), commit: { everyRecords: COMMIT_EVERY }, retry: { maxAttempts: 2, deadLetterDir } });
}

/** The workload under the plan in force: open, process to the end, close (destroy if close failed). */
async function workload(deadLetterDir: string): Promise<string[]> {
  const errors: string[] = [];
  let c: Consumer | null = null;
  await faulted(async () => { c = await openConsumer(deadLetterDir); }, 'Consumer.open', errors, FAULT_CODES);
  if (c === null) return errors;
  const consumer: Consumer = c;
  await faulted(() => consumer.nonblockingProcess(null, handler), 'nonblockingProcess', errors, FAULT_CODES);
  if (!await faulted(() => consumer.close(), 'close', errors, FAULT_CODES)) await bounded(consumer.destroy().catch(() => undefined), 'destroy');
  return errors;
}

/** Without faults: the cursor, its state and the dead letters agree, before and after reading the rest. */
async function verify(deadLetterDir: string, label: string): Promise<void> {
  const c = await openConsumer(deadLetterDir);
  const at = c.committedOffset;
  if (at === null) throw new Error(`${label}: a clientTx consumer has a committed offset`);
  assert.equal(decodeState(c.state), expectedState(at), `${label}: the state committed with cursor ${at} counts the records below it once each`);
  const letters = await deadLetterOffsets(deadLetterDir);
  assert.equal(letters.length, new Set(letters).size, `${label}: a dead letter written twice: ${letters.join(',')}`);
  for (let o = 0; o < at; o++) if (failing(o)) assert.ok(letters.includes(o), `${label}: record ${o} is below the cursor (${at}) without its dead letter`);
  await c.nonblockingProcess(null, handler);
  assert.is(c.committedOffset, RECORDS, `${label}: the rest reads to the end`);
  assert.equal(decodeState(c.state), expectedState(RECORDS), `${label}: the state after the rest`);
  await c.close();
  const all = await deadLetterOffsets(deadLetterDir);
  assert.equal([...all].sort((a, b) => a - b), Array.from({ length: RECORDS }, (_, o) => o).filter(failing), `${label}: one dead letter per failing record`);
}

async function runOnce(rule: FaultRule | null, label: string): Promise<{ fired: string | null; errors: string[] }> {
  const dir = join(root, `run-${runNo++}`);
  mkdirSync(dir);
  const deadLetterDir = join(dir, 'dl');
  const trace = join(dir, 'trace');
  setFaults({ rules: rule === null ? [] : [rule], trace });
  let errors: string[];
  try {
    errors = await workload(deadLetterDir);
  } catch (e) {
    throw new Error(`${label}: ${(e as Error).message}\n  injected at: ${describeFired(trace)}`, { cause: e });
  } finally {
    clearFaults();
  }
  const fired = describeFired(trace);
  try {
    await verify(deadLetterDir, label);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n  injected at: ${fired}; errors ${JSON.stringify(errors)}`, { cause: e });
  }
  // The next run starts from the oldest record again.
  rmSync(join(source, 'cursors'), { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  return { fired: fired === 'nothing' ? null : fired, errors };
}

let census: Census;
const calls = (thread: string, ops: readonly FaultOp[] | '*'): number => census.calls(thread, ops);

test('count: a fault-free run and its file calls', async () => {
  source = await logOf(RECORDS);
  const dir = join(root, 'census');
  mkdirSync(dir);
  const trace = join(dir, 'trace');
  setFaults({ rules: [], trace });
  let errors: string[];
  try {
    errors = await workload(join(dir, 'dl'));
  } finally {
    clearFaults();
  }
  assert.equal(errors, []);
  census = new Census(trace);
  console.log(`  main thread: ${calls('main', '*')} calls, dead-letter writer: ${calls('writer', '*')} calls`);
  assert.ok(calls('writer', ['fdatasync', 'fsync']) >= 1, 'the workload must write dead letters');
  await verify(join(dir, 'dl'), 'fault-free');
  rmSync(join(source, 'cursors'), { recursive: true, force: true });
});

async function loop(name: string, total: number, make: (n: number) => FaultRule): Promise<void> {
  let fired = 0;
  let ran = 0;
  const t0 = Date.now();
  for (let n = 1; n <= total + 2; n++) {
    if (!sampled(n)) continue;
    ran++;
    const r = await runOnce(make(n), `${name} N=${n}`);
    if (r.fired !== null) fired++;
  }
  console.log(`  ${name}: ${ran} runs of ${total + 2} call numbers, ${fired} faults fired, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.ok(fired >= Math.min(ran, total) * 0.5, `${name}: only ${fired} of ${ran} runs fired a fault`);
}

test('main thread: EIO at call N', async () => {
  await loop('main EIO', calls('main', '*'), (n) => ({ op: '*', thread: 'main', nth: n, effect: { errno: 'EIO' } }));
});

test('main thread: EIO from call N on', async () => {
  await loop('main EIO persistent', calls('main', '*'), (n) => ({ op: '*', thread: 'main', nth: n, persistent: true, effect: { errno: 'EIO' } }));
});

test('main thread: EIO at call N only, unsynced pages dropped (a cursor commit whose fsync failed is gone)', async () => {
  await loop('main EIO transient+drop', calls('main', '*'), (n) => ({ op: '*', thread: 'main', nth: n, effect: { errno: 'EIO', dropUnsynced: true } }));
});

test('any thread: EMFILE on the Nth open', async () => {
  await loop('EMFILE on open', Math.max(calls('main', ['open']), calls('writer', ['open'])), (n) => ({ op: 'open', nth: n, effect: { errno: 'EMFILE' } }));
});

test('main thread: ENOSPC on the Nth write or sync (cursor commits)', async () => {
  const ops: FaultOp[] = ['writev', 'fdatasync', 'fsync', 'rename'];
  await loop('main ENOSPC', calls('main', ops), (n) => ({ op: ops, thread: 'main', nth: n, effect: { errno: 'ENOSPC' } }));
});

test('dead-letter writer: EIO at call N, unsynced pages dropped', async () => {
  await loop('writer EIO', calls('writer', '*'), (n) => ({ op: '*', thread: 'writer', nth: n, effect: { errno: 'EIO', dropUnsynced: true } }));
});

test.run();
