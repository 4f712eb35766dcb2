/**
 * The fault loop (test/fault-loop-tx.test.ts) for the JetStream backend under network faults. The
 * workload, through a TCP proxy (test/tcp-proxy.ts) in front of one nats-server: a producer appends
 * RECORDS records, flushing every FLUSH_EVERY, then a clientTx consumer (group commit every
 * COMMIT_EVERY, its state counting the records it handled) reads them to the end; each handle closes
 * (destroy when close fails). A census run counts the bytes each direction carries; then each run
 * cuts every connection (or pauses forwarding for good) once byte N of one direction passed, for a
 * seeded sample of N. After each run, connected directly: every record whose flush() resolved is in
 * the stream at its offset; the stream's records are dense and each is the one appended at its offset
 * (records in doubt after a failure may be stored or not, as docs/jetstream.md says: "records from
 * durableOffset on may or may not be stored"); nothing past what was appended; the cursor's state
 * counts exactly the records below it; every failure was a coded LogError; no call hung past its
 * bound. SEED replays a sample; NET_FAULT_RUNS sets the number of runs.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, Whence, isLogError, type Message, type ProcessContext } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { prng, suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { tcpProxy, type ArmedFault, type FaultAction } from './tcp-proxy.js';

const test = suite('jetstream network faults');
const SEED = Number(process.env.SEED ?? Date.now() % 1_000_000);
const RUNS = Number(process.env.NET_FAULT_RUNS ?? 10);
console.log(`  jetstream net fault loop seed ${SEED} (SEED=${SEED} replays), ${RUNS} runs (NET_FAULT_RUNS sets it)`);
const rnd = prng(SEED);

const RECORDS = 30;
const FLUSH_EVERY = 5;
const COMMIT_EVERY = 4;
const TIMEOUT_MS = 1_000;
const LEASE_MS = 2_000;
/** A call's bound: a publish or request (timeoutMs), then 2 x timeoutMs of tries, a lease release, slack. */
const BOUND_MS = 6 * TIMEOUT_MS + LEASE_MS;

let server: NatsServer;
let runNo = 0;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

type State = [count: number, sum: number];
const decodeState = (s: Uint8Array | null): State => (s === null ? [0, 0] : JSON.parse(Buffer.from(s).toString()) as State);
const expectedState = (end: number): State => [end, (end * (end - 1)) / 2];

function handler(m: Message, ctx: ProcessContext): 'commit' {
  const [count, sum] = decodeState(ctx.state);
  ctx.setState(JSON.stringify([count + 1, sum + m.offset]));
  return 'commit';
}

/** Runs `fn` within the bound; a failure must be a coded LogError, and is listed. */
async function guarded<T>(fn: () => Promise<T>, where: string, errors: string[]): Promise<T | null> {
  try {
    return await within(fn(), BOUND_MS, where);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('HANG:')) throw e;
    if (!isLogError(e) || !/^ERR_[A-Z_]+$/.test((e as { code: string }).code)) throw new Error(`${where}: failed with a plain error, not a coded LogError: ${String((e as Error)?.stack ?? e)}`);
    errors.push(`${where}: ${(e as { code: string }).code} ${(e as Error).message}`);
    return null;
  }
}

interface Outcome { errors: string[]; flushed: number; appended: number }

/**
 * The workload; a handle whose call hung is destroyed before the failure goes on (its connection
 * would reconnect for good and keep the file's process running until the runner kills it).
 */
async function workload(servers: string, stream: string): Promise<Outcome> {
  const handles: Array<{ destroy(): Promise<void> }> = [];
  try {
    return await steps(servers, stream, handles);
  } catch (e) {
    for (const h of handles) await within(h.destroy(), BOUND_MS, 'destroy() after a failure').catch(() => undefined);
    throw e;
  }
}

async function steps(servers: string, stream: string, handles: Array<{ destroy(): Promise<void> }>): Promise<Outcome> {
  const backend = jetstream({ servers, stream, timeoutMs: TIMEOUT_MS, leaseMs: LEASE_MS });
  const errors: string[] = [];
  let flushed = 0;
  let appended = 0;
  const p = await guarded(() => Producer.open({ backend }), 'Producer.open', errors);
  if (p !== null) {
    handles.push(p);
    let ok = true;
    for (let i = 0; i < RECORDS && ok; i += FLUSH_EVERY) {
      for (let j = i; j < i + FLUSH_EVERY; j++) {
        try {
          const at = p.append(`r${j}`);
          assert.is(at, j, 'append gives the next offset');
          appended = j + 1;
        } catch (e) {
          if (!isLogError(e)) throw e;
          errors.push(`append: ${e.code}`);
          ok = false;
          break;
        }
      }
      if (ok && await guarded(() => p.flush(), `flush of r${i}..`, errors) === null) ok = false;
      if (ok) flushed = i + FLUSH_EVERY;
    }
    if (await guarded(() => p.close(), 'Producer close', errors) === null) await guarded(() => p.destroy(), 'Producer destroy', errors);
  }
  const c = await guarded(() => Consumer.open({ backend, style: ConsumerStyle.clientTx('nf'), commit: { everyRecords: COMMIT_EVERY } }), 'Consumer.open', errors);
  if (c !== null) {
    handles.push(c);
    await guarded(() => c.nonblockingProcess(null, handler), 'nonblockingProcess', errors);
    if (await guarded(() => c.close(), 'Consumer close', errors) === null) await guarded(() => c.destroy(), 'Consumer destroy', errors);
  }
  return { errors, flushed, appended };
}

/** Connected directly: the stream and the cursor agree with what the workload was told. */
async function verify(stream: string, o: Outcome, label: string): Promise<void> {
  const backend = jetstream({ servers: server.url, stream, timeoutMs: 5_000, leaseMs: LEASE_MS });
  const offsets: number[] = [];
  const texts: string[] = [];
  const r = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    await within(r.nonblockingProcess(null, (m) => { offsets.push(m.offset); texts.push(Buffer.from(m.data).toString()); return 'commit'; }), 20_000, 'read back');
  } finally {
    await r.close();
  }
  assert.equal(offsets, Array.from({ length: offsets.length }, (_, i) => i), `${label}: offsets dense from 0`);
  assert.equal(texts, offsets.map((i) => `r${i}`), `${label}: each record is the one appended at its offset`);
  assert.ok(texts.length >= o.flushed, `${label}: ${o.flushed} records flushed, ${texts.length} in the stream`);
  assert.ok(texts.length <= o.appended, `${label}: ${o.appended} records appended, ${texts.length} in the stream`);
  // The cursor: its lease may still be held by a handle whose release was cut (it expires in leaseMs).
  const until = performance.now() + 3 * LEASE_MS;
  let c: Consumer | null = null;
  while (c === null) {
    try {
      c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('nf'), commit: { everyRecords: COMMIT_EVERY } });
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_CURSOR_LOCKED' || performance.now() > until) throw e;
      await new Promise((resolve) => setTimeout(resolve, 100)); // bounded retry of a lease's expiry
    }
  }
  try {
    const at = c.committedOffset!;
    assert.ok(at <= texts.length, `${label}: cursor ${at} within the stream (${texts.length})`);
    assert.equal(decodeState(c.state), expectedState(at), `${label}: the state committed with cursor ${at} counts the records below it once each`);
    await within(c.nonblockingProcess(null, handler), 20_000, 'the rest');
    assert.is(c.committedOffset, texts.length, `${label}: the rest reads to the end`);
    assert.equal(decodeState(c.state), expectedState(texts.length), `${label}: the state after the rest`);
  } finally {
    await c.close();
  }
}

async function runOnce(fault: ArmedFault | null, label: string): Promise<{ fired: boolean; outcome: Outcome; counts: ReturnType<Awaited<ReturnType<typeof tcpProxy>>['counts']> }> {
  const stream = `nf-${process.pid}-${runNo++}`;
  const proxy = await tcpProxy(server.port);
  if (fault !== null) proxy.arm(fault);
  let outcome: Outcome;
  try {
    outcome = await workload(proxy.url, stream);
  } catch (e) {
    throw new Error(`${label}: ${(e as Error).message}`, { cause: e });
  } finally {
    await proxy.close();
  }
  try {
    await verify(stream, outcome, label);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n  fired: ${proxy.fired()}; outcome ${JSON.stringify(outcome)}`, { cause: e });
  }
  return { fired: proxy.fired(), outcome, counts: proxy.counts() };
}

let census = { up: 0, down: 0 };

test('count: a fault-free run and the bytes it carries', async () => {
  const r = await runOnce(null, 'census');
  assert.equal(r.outcome.errors, []);
  assert.is(r.outcome.flushed, RECORDS);
  census = { up: r.counts.up.bytes, down: r.counts.down.bytes };
  console.log(`  census: ${census.up} bytes up, ${census.down} bytes down`);
});

test('a cut or a pause at byte N of one direction', async () => {
  const t0 = Date.now();
  let fired = 0;
  for (let k = 0; k < RUNS; k++) {
    const direction = rnd() < 0.5 ? 'up' : 'down';
    const afterBytes = 1 + Math.floor(rnd() * census[direction]);
    // Mostly cuts (the client reconnects); every fourth run a pause, for good or lifted within 3 x timeoutMs.
    const action: FaultAction = k % 4 === 3 ? 'pause' : 'cut';
    const resumeAfterMs = action === 'pause' && rnd() < 0.5 ? Math.floor(rnd() * 3 * TIMEOUT_MS) : undefined;
    const label = `run ${k}: ${action} after ${afterBytes} bytes ${direction}${resumeAfterMs === undefined ? '' : `, resumed ${resumeAfterMs} ms later`}`;
    const r = await runOnce({ direction, afterBytes, action, resumeAfterMs }, label);
    if (r.fired) fired++;
    console.log(`  ${label}: ${r.fired ? 'fired' : 'not fired'}; flushed ${r.outcome.flushed}; ${r.outcome.errors.join('; ') || 'no errors'}`);
  }
  console.log(`  ${RUNS} runs, ${fired} fired, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

runOrSkip(test, 'jetstream network faults');
