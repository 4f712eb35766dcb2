/**
 * appendBatch is all or nothing across crashes: a producer child (fixtures/batch-producer.mjs) appends
 * batches (many larger than maxBatchBytes, some with keys and headers) and single records, and is
 * SIGKILLed at random times or by kill-at-io inside a segment write (torn at a random fraction), at
 * an fdatasync, or while creating a segment. After each kill the directory is recovered and read
 * whole: every batch in the log is complete and in order at consecutive offsets, no record of a
 * batch appears without the others, and nothing acknowledged durable is missing. SEED=<n> replays
 * the kill points (not the timing of the processes).
 */
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { suite, prng, tempDir } from './kit.js';
import { Child } from './child.js';

const test = suite('batch-crash');

const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
const rounds = Number(process.env.BATCH_CRASH_ROUNDS ?? 12);
console.log(`batch crash test seed=${seed}, ${rounds} kills (replay: SEED=${seed} node --import tsx test/batch-crash.test.ts)`);
const KILL_AT_IO = fileURLToPath(new URL('./fixtures/kill-at-io.mjs', import.meta.url));

type KillAt = { op: string; file: string; n: number; mode: string; cut?: number; flags?: string } | null;

function killPoint(rand: () => number): KillAt {
  const r = rand();
  if (r < 0.45) return { op: 'writev', file: 'seg', n: 1 + Math.floor(rand() * 40), mode: 'torn', cut: rand() };
  if (r < 0.65) return { op: 'fdatasync', file: 'seg', n: 1 + Math.floor(rand() * 10), mode: rand() < 0.5 ? 'before' : 'after' };
  if (r < 0.75) return { op: 'open', file: 'seg', n: 1 + Math.floor(rand() * 3), mode: 'after', flags: 'wx' };
  return null; // a SIGKILL from here, at a random time
}

interface Parsed { id: number; i: number; n: number }

function parse(data: Uint8Array): Parsed {
  const [id, i, n] = Buffer.from(data).toString().split(':');
  return { id: Number(id), i: Number(i), n: Number(n) };
}

/** Reads the whole log and checks that every batch in it is whole. Returns the record count and the batch ids present. */
async function checkBatches(logDir: string): Promise<{ records: number; batches: Map<number, number> }> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const batches = new Map<number, number>(); // id -> first offset
  let open: { id: number; next: number; n: number } | null = null;
  let records = 0;
  for (const m of c.iter()) {
    records++;
    const r = parse(m.data);
    if (open !== null) {
      assert.ok(r.id === open.id && r.i === open.next, `offset ${m.offset}: batch ${open.id} stops at record ${open.next} of ${open.n} (found ${r.id}:${r.i})`);
      open.next++;
      if (open.next === open.n) open = null;
      continue;
    }
    if (r.n === 0) continue; // a single record
    assert.is(r.i, 0, `offset ${m.offset}: record ${r.i} of batch ${r.id} without the records before it`);
    assert.ok(!batches.has(r.id), `batch ${r.id} appears twice`);
    batches.set(r.id, m.offset);
    if (r.n > 1) open = { id: r.id, next: 1, n: r.n };
  }
  await c.close();
  assert.is(open, null, `the log ends inside batch ${open?.id}`);
  return { records, batches };
}

test('every batch is whole or absent after kills at random times and inside writes, fsyncs and rolls', async () => {
  const rand = prng(seed);
  const logDir = tempDir();
  let durable = 0;
  const acknowledged = new Map<number, number>(); // batch id -> first offset, for batches below a durable ack
  let kills = 0;
  let tornOrTargeted = 0;
  for (let round = 0; round < rounds; round++) {
    const point = killPoint(rand);
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (point !== null) {
      env.REACTIVE_LOG_TEST_FILE_IO = KILL_AT_IO;
      env.REACTIVE_LOG_KILL_AT = JSON.stringify(point);
    }
    const policy = ['always', 'never', 'periodic:5'][round % 3]!;
    const child = Child.fork('batch-producer.mjs', [JSON.stringify({ dir: logDir, seed: seed * 100 + round + 1, policy })], { env, execArgv: [] });
    try {
      await child.next('open');
    } catch (e) {
      // A kill point inside Producer.open (recovery creates or rolls a segment): a kill all the same.
      if (point === null || child.exitInfo?.signal !== 'SIGKILL') throw e;
    }
    const appended = new Map<number, number>();
    const killAfter = 20 + Math.floor(rand() * 300);
    const deadline = Date.now() + killAfter;
    // Follow the child's reports until it dies (a kill point) or the time is up (then kill it).
    while (child.exitInfo === null) {
      if ((point === null && Date.now() >= deadline) || Date.now() >= deadline + 10_000) {
        child.proc.kill('SIGKILL');
        break;
      }
      try {
        const m = await child.next('appended', point === null ? Math.max(1, deadline - Date.now()) : 5000);
        appended.set(m.id as number, m.first as number);
      } catch {
        if (point !== null && child.exitInfo === null) child.proc.kill('SIGKILL'); // the point was not reached in time
      }
    }
    await child.exited;
    for (const m of child.pending) {
      if (m.type === 'appended') appended.set(m.id as number, m.first as number);
      if (m.type === 'durable') durable = Math.max(durable, m.offset as number);
    }
    kills++;
    if (point !== null && child.exitInfo?.signal === 'SIGKILL') tornOrTargeted++;
    for (const [id, first] of appended) if (first < durable) acknowledged.set(id, first);
    // Recovery, as the next producer would run it.
    const p = await Producer.open({ logDir });
    assert.ok(p.nextOffset >= durable, `round ${round}: the log ends at ${p.nextOffset}, below the acknowledged durable offset ${durable}`);
    await p.close();
    const { batches } = await checkBatches(logDir);
    for (const [id, first] of acknowledged) assert.is(batches.get(id), first, `round ${round}: acknowledged batch ${id} at ${first}`);
  }
  console.log(`batch crash test seed=${seed}: ${kills} kills (${tornOrTargeted} at file operations), ${acknowledged.size} batches acknowledged durable, all whole`);
});

test.run();
