/**
 * Differential test of the two backends: a seeded random scenario (appends with keys, headers and
 * dedup keys, flushes, producer restarts, calls after close, reads from every Whence, nonTx and
 * clientTx / globalTx consumers answering commit / skip / retry / break / throw, with group commit,
 * a signal, blockingProcess, for await and restarts, positions past the end, bad calls) runs on a
 * local log and on a JetStream stream, and what a user observes must be the same (timestamps only as
 * ordering: a Whence.timestamp read is checked against each backend's own timestamps). Each
 * transactional cursor must complete every record once, in order, across its restarts.
 * The differences docs/jetstream.md lists are left out: lag() of a consumer open for a while (counts
 * new records within a second), header names NATS cannot carry, and a small `{ records }` dedup
 * window across a producer restart (a record published again without its key).
 * Replay a run with SEED=<n>; SCENARIOS (6) and OPS (40 per scenario) size it; DUMP=<scenario>
 * prints that scenario's plan and observations. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import {
  Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type Message, type Outcome, type ProcessContext,
} from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { prng, suite, tempDir } from './kit.js';
import { natsServerBinary, SKIP_REASON, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

type Act = 'commit' | 'skip' | 'retry' | 'break' | 'throw';
type Op =
  | { t: 'append'; data: string; key?: string; headers?: Record<string, string>; dedupKey?: string }
  | { t: 'flush' }
  | { t: 'restart' }
  | { t: 'closed' }
  | { t: 'read'; whence: 'oldest' | 'position' | 'ts0' | 'future' | 'mid'; at: number; max: number | null; salt: number }
  | { t: 'tx'; id: string; max: number | null; salt: number; reopen: boolean; group: boolean; abortAt: number | null; blocking: boolean; iterate: boolean }
  | { t: 'tail'; at: number; n: number }
  | { t: 'latest'; n: number; salt: number }
  | { t: 'past'; by: number }
  | { t: 'bad'; which: number };

const DATA = ['', 'a', 'héllo wörld', 'x'.repeat(300), '{"id":17}', ' lead', 'tail\n'];
const KEYS = ['', 'k', 'order-17', ' spaced ', 'ünï'];
const HNAMES = ['a', 'content-type', 'X-Trace', 'x-trace', 'z'];
const HVALUES = ['', 'v', ' padded ', 'line\nbreak', 'ünï', 'a:b'];
const DEDUP = ['d1', 'd2', ' d3 ', 'rl-b64:x', 'd\n4'];

/** Bad calls: each must give the same coded error (or the same result) on both backends. */
const BAD_APPENDS: ReadonlyArray<[unknown, unknown]> = [
  [42, undefined], [null, undefined], ['x', { key: 42 }], ['x', { headers: { a: 1 } }], ['x', { headers: 'a' }],
  ['x', { dedupKey: '' }], ['x', { dedupKey: 7 }], ['x', { nope: 1 }], ['x', { headers: { '': 'v' } }],
  ['x', { key: null, headers: null }], ['x', { key: undefined }], ['x', { dedupKey: 'd'.repeat(5000) }],
  [new Uint8Array(0), { headers: {} }], ['x', { headers: { a: '\u0000' } }], ['x', { headers: { a: 'v\u0007' } }],
];
const BAD_CALLS: ReadonlyArray<(c: Consumer) => Promise<unknown>> = [
  (c) => c.nonblockingProcess(-1, () => 'commit'),
  (c) => c.nonblockingProcess(1.5, () => 'commit'),
  (c) => c.nonblockingProcess(null, (() => 'nope') as never),
  (c) => c.nonblockingProcess(null, (_m, ctx) => { ctx.setState('s'); return 'commit'; }),
  (c) => c.nonblockingProcess(0, () => 'commit'),
  (c) => c.nonblockingProcess(null, () => 'commit', { nope: 1 } as never),
  (c) => Promise.all([c.nonblockingProcess(1, () => 'commit'), c.nonblockingProcess(1, () => 'commit')]),
  (c) => c.blockingProcess(null, () => 'break', { signal: AbortSignal.abort() }),
  (c) => c.nonblockingProcess(null, () => 'commit', { signal: AbortSignal.abort() }),
  (c) => c.nonblockingProcess(null, () => 'commit', { signal: 'x' } as never),
  async (c) => { const it = c.tail({ signal: AbortSignal.abort() }); return (await it.next()).done; },
  async (c) => c.lag().records,
  async (c) => [c.position, c.nextOffset, c.committedOffset, c.state],
  (c) => c.nonblockingProcess(null, async (): Promise<Outcome> => { await new Promise((r) => setImmediate(r)); return 'break'; }),
  (c) => c.nonblockingProcess(null, () => 'retry' as Outcome, { nope: true } as never),
];

function plan(rnd: () => number, length: number): Op[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const ops: Op[] = [];
  for (let i = 0; i < length; i++) {
    const r = rnd();
    if (r < 0.45) {
      const op: Op = { t: 'append', data: pick(DATA) + (rnd() < 0.5 ? String(i) : '') };
      if (rnd() < 0.4) op.key = pick(KEYS);
      if (rnd() < 0.3) {
        op.headers = {};
        const n = Math.floor(rnd() * 3);
        for (let h = 0; h < n; h++) op.headers[pick(HNAMES)] = pick(HVALUES);
      }
      if (rnd() < 0.25) op.dedupKey = pick(DEDUP);
      ops.push(op);
    } else if (r < 0.52) ops.push({ t: 'flush' });
    else if (r < 0.57) ops.push({ t: 'restart' });
    else if (r < 0.6) ops.push({ t: 'closed' });
    else if (r < 0.75) {
      ops.push({ t: 'read', whence: pick(['oldest', 'position', 'ts0', 'future', 'mid'] as const), at: rnd(), max: rnd() < 0.5 ? null : 1 + Math.floor(rnd() * 5), salt: Math.floor(rnd() * 1e9) });
    } else if (r < 0.92) {
      const max = rnd() < 0.5 ? null : 1 + Math.floor(rnd() * 4);
      ops.push({ t: 'tx', id: pick(['a', 'b', '@global']), max, salt: Math.floor(rnd() * 1e9), reopen: rnd() < 0.4, group: rnd() < 0.3, abortAt: rnd() < 0.15 ? Math.floor(rnd() * 3) : null, blocking: max !== null && rnd() < 0.3, iterate: rnd() < 0.15 });
    } else if (r < 0.94) ops.push({ t: 'tail', at: rnd(), n: Math.floor(rnd() * 4) });
    else if (r < 0.96) ops.push({ t: 'latest', n: 1 + Math.floor(rnd() * 3), salt: Math.floor(rnd() * 1e9) });
    else if (rnd() < 0.4) ops.push({ t: 'past', by: 1 + Math.floor(rnd() * 3) });
    else ops.push({ t: 'bad', which: Math.floor(rnd() * BAD_APPENDS.length * 2) });
  }
  return ops;
}

/** The handler's answer, a function of the call's salt, the record and the attempt only. */
function act(salt: number, offset: number, attempt: number): Act {
  const x = prng(salt ^ Math.imul(offset + 1, 2654435761) ^ Math.imul(attempt, 40503))();
  if (attempt > 1) return x < 0.8 ? 'commit' : 'skip';
  return x < 0.6 ? 'commit' : x < 0.72 ? 'skip' : x < 0.84 ? 'retry' : x < 0.92 ? 'break' : 'throw';
}

function code(e: unknown): string {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'string' ? c : `UNCODED ${String((e as Error).message ?? e)}`;
}

function show(m: Message): unknown {
  return {
    o: m.offset,
    d: Buffer.from(m.data).toString(),
    k: m.key === null ? null : Buffer.from(m.key).toString('hex'),
    h: m.headers === null ? null : Object.entries(m.headers),
  };
}

interface Where { readonly label: string; readonly where: Record<string, unknown> }

async function run(w: Where, ops: readonly Op[], window: number): Promise<string[]> {
  const obs: string[] = [];
  const note = (i: number, x: unknown): void => { obs.push(`${i} ${JSON.stringify(x)}`); };
  const openP = (): Promise<Producer> => Producer.open({ ...w.where, syncPolicy: SyncPolicy.never(), dedupWindow: { records: window } } as never);
  let p = await openP();
  const tx = new Map<string, Consumer>();
  const done = new Map<string, number[]>();
  let lastTs = -Infinity;
  const handler = (i: number, salt: number, seen: unknown[], isTx: boolean) => (m: Message, ctx: ProcessContext): Outcome => {
    const a = act(salt, m.offset, ctx.attempt);
    seen.push([show(m), ctx.attempt, a, isTx ? (ctx.state === null ? null : Buffer.from(ctx.state).toString()) : '-']);
    if (a === 'throw') throw new Error(`boom at ${m.offset}`);
    if (isTx && (a === 'commit' || a === 'skip')) ctx.setState(`s${m.offset}`);
    return a;
  };
  const consume = async (i: number, c: Consumer, max: number | null, salt: number, isTx: boolean, abortAt: number | null = null, blocking = false, behind = 0): Promise<number[]> => {
    const seen: Array<[unknown, number, Act, unknown]> = [];
    const stamps: number[] = [];
    const h = handler(i, salt, seen, isTx);
    const ac = new AbortController();
    try {
      const fn = (m: Message, ctx: ProcessContext): Outcome => {
        stamps.push(m.timestamp);
        if (stamps.length - 1 === abortAt) ac.abort();
        return h(m, ctx);
      };
      // A blocking call is given a max no larger than the records there, so it returns.
      const s = blocking ? await c.blockingProcess(Math.min(max!, behind), fn, { signal: ac.signal })
        : await c.nonblockingProcess(max, fn, { signal: ac.signal });
      note(i, { seen, summary: s, next: c.nextOffset, committed: isTx ? c.committedOffset : '-', state: isTx && c.state !== null ? Buffer.from(c.state).toString() : null });
    } catch (e) {
      note(i, { seen, error: code(e), message: (e as Error).message });
    }
    for (const t of stamps) assert.ok(Number.isFinite(t) && t > 0, `${w.label}: a timestamp`);
    return seen.filter(([, , a]) => a === 'commit' || a === 'skip').map(([m]) => (m as { o: number }).o);
  };
  try {
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      switch (op.t) {
        case 'append': {
          const { t: _t, data, ...opts } = op;
          try { note(i, p.append(data, opts as never)); } catch (e) { note(i, code(e)); }
          break;
        }
        case 'flush': await p.flush(); note(i, ['flushed', p.durableOffset, p.nextOffset]); break;
        case 'restart': await p.close(); p = await openP(); note(i, ['reopened', p.nextOffset]); break;
        case 'closed': {
          await p.close();
          const after: string[] = [];
          try { p.append('late'); after.push('appended'); } catch (e) { after.push(code(e)); }
          try { await p.flush(); after.push('flushed'); } catch (e) { after.push(code(e)); }
          await p.close();
          p = await openP();
          note(i, [after, p.nextOffset]);
          break;
        }
        case 'read': {
          await p.flush();
          if (op.whence === 'mid') {
            // Timestamps differ between backends: each must start at the first record stored at or
            // after the timestamp of a record it holds, by its own timestamps.
            const all: number[] = [];
            const r = await Consumer.open({ ...w.where, style: ConsumerStyle.nonTx(Whence.oldest()) } as never);
            await r.nonblockingProcess(null, (m) => { all.push(m.timestamp); return 'commit'; });
            await r.close();
            if (all.length === 0) { note(i, 'empty'); break; }
            const t = all[Math.floor(op.at * all.length)]!;
            const from: number[] = [];
            const c = await Consumer.open({ ...w.where, style: ConsumerStyle.nonTx(Whence.timestamp(t)) } as never);
            await c.nonblockingProcess(null, (m) => { from.push(m.offset); return 'commit'; });
            await c.close();
            const first = all.findIndex((x) => x >= t);
            note(i, ['mid', from[0] === first, from.length === all.length - first]);
            break;
          }
          const whence = op.whence === 'oldest' ? Whence.oldest() : op.whence === 'ts0' ? Whence.timestamp(0)
            : op.whence === 'future' ? Whence.timestamp(Date.now() + 3_600_000) : Whence.position(Math.floor(op.at * (p.nextOffset + 1)));
          const c = await Consumer.open({ ...w.where, style: ConsumerStyle.nonTx(whence) } as never);
          note(i, ['lag', c.lag().records]);
          await consume(i, c, op.max, op.salt, false);
          await c.close();
          try { await c.nonblockingProcess(null, () => 'commit'); note(i, 'ran after close'); } catch (e) { note(i, code(e)); }
          break;
        }
        case 'tx': {
          await p.flush();
          let c = tx.get(op.id);
          if (c === undefined) {
            const style = op.id === '@global' ? ConsumerStyle.globalTx() : ConsumerStyle.clientTx(op.id);
            c = await Consumer.open({ ...w.where, style, ...(op.group ? { commit: { everyRecords: 3 } } : {}) } as never);
            tx.set(op.id, c);
            note(i, ['opened', op.id, c.lag().records]);
          }
          // lag() of a consumer open for a while counts new records within a second on JetStream
          // (documented): how far behind it is comes from the producer here.
          const behind = p.nextOffset - c.nextOffset;
          if (op.iterate) {
            // for await on a transactional consumer: what it hands out and what it commits.
            const got: number[] = [];
            const want = Math.min(op.max ?? 2, behind);
            if (want > 0) for await (const m of c) { got.push(m.offset); if (got.length >= want) break; }
            note(i, ['iterated', got, c.nextOffset, c.committedOffset, c.state === null ? null : Buffer.from(c.state).toString()]);
            const upTo = c.committedOffset ?? 0;
            done.set(op.id, [...(done.get(op.id) ?? []), ...got.filter((o) => o < upTo)]);
            if (op.reopen) { await c.close(); tx.delete(op.id); }
            break;
          }
          if (op.blocking && behind === 0) { note(i, 'nothing to block on'); break; }
          const got = await consume(i, c, op.max, op.salt, true, op.abortAt, op.blocking, behind);
          done.set(op.id, [...(done.get(op.id) ?? []), ...got]);
          if (op.reopen) { await c.close(); tx.delete(op.id); }
          break;
        }
        case 'tail': {
          await p.flush();
          const c = await Consumer.open({ ...w.where, style: ConsumerStyle.nonTx(Whence.position(Math.floor(op.at * (p.nextOffset + 1)))) } as never);
          const got: unknown[] = [];
          const want = Math.min(op.n, p.nextOffset - Math.floor(op.at * (p.nextOffset + 1)));
          if (want > 0) {
            for await (const m of c) { got.push(show(m)); if (got.length >= want) break; }
          }
          note(i, ['tail', got, c.nextOffset, c.position]);
          await c.close();
          break;
        }
        case 'latest': {
          await p.flush();
          const c = await Consumer.open({ ...w.where, style: ConsumerStyle.nonTx(Whence.latest()) } as never);
          const offs: number[] = [];
          for (let k = 0; k < op.n; k++) offs.push(p.append(`latest-${i}-${k}`));
          await p.flush();
          note(i, offs);
          await consume(i, c, null, op.salt, false);
          await c.close();
          break;
        }
        case 'bad': {
          await p.flush();
          if (op.which < BAD_APPENDS.length) {
            const [data, opts] = BAD_APPENDS[op.which]!;
            try { note(i, ['bad append', p.append(data as never, opts as never)]); } catch (e) { note(i, ['bad append', code(e)]); }
            break;
          }
          const call = BAD_CALLS[(op.which - BAD_APPENDS.length) % BAD_CALLS.length]!;
          const c = await Consumer.open({ ...w.where, style: ConsumerStyle.nonTx(Whence.oldest()) } as never);
          try { const r = await call(c); note(i, ['bad call', r === undefined ? 'undefined' : r]); } catch (e) { note(i, ['bad call', code(e)]); }
          await c.close();
          break;
        }
        case 'past': {
          await p.flush();
          try {
            const c = await Consumer.open({ ...w.where, style: ConsumerStyle.nonTx(Whence.position(p.nextOffset + op.by)) } as never);
            note(i, 'opened past the end');
            await c.close();
          } catch (e) { note(i, code(e)); }
          break;
        }
      }
    }
    await p.flush();
    // A last reader sees the whole log; its timestamps never decrease.
    const c = await Consumer.open({ ...w.where, style: ConsumerStyle.nonTx(Whence.oldest()) } as never);
    const all: unknown[] = [];
    await c.nonblockingProcess(null, (m) => {
      assert.ok(m.timestamp >= lastTs, `${w.label}: timestamps never decrease`);
      lastTs = m.timestamp;
      all.push(show(m));
      return 'commit';
    });
    await c.close();
    note(-1, all);
  } finally {
    for (const c of tx.values()) await c.close();
    await p.close();
  }
  // Exactly-once per clientTx id across its restarts: each offset completed once, in order, from 0.
  for (const [id, offs] of [...done].sort(([a], [b]) => (a < b ? -1 : 1))) note(-2, [id, offs, offs.every((o, k) => o === k)]);
  return obs;
}

const test = suite('differential: local log and JetStream');
let server: NatsServer | null = null;

if (natsServerBinary() === null) {
  process.stdout.write(`# ${SKIP_REASON}\n`);
} else {
  test('the same scenarios give the same observations on both backends', async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
    const scenarios = Number(process.env.SCENARIOS ?? 6);
    process.stdout.write(`# seed ${seed} (replay with SEED=${seed}), ${scenarios} scenarios\n`);
    server = await startNats();
    const rnd = prng(seed);
    for (let s = 0; s < scenarios; s++) {
      const ops = plan(rnd, Number(process.env.OPS ?? 40));
      // The first scenario ends with every bad call once.
      if (s === 0) for (let b = 0; b < BAD_APPENDS.length + BAD_CALLS.length; b++) ops.push({ t: 'bad', which: b });
      // A small window: keys leave it while the stream still remembers them (a new record, as locally).
      // Such a record no longer carries its key on JetStream, so the window a reopened producer
      // rebuilds does not know it (docs/jetstream.md): a small window comes without restarts.
      const window = rnd() < 0.5 ? 1000 : 1 + Math.floor(rnd() * 4);
      if (window < 1000) ops.forEach((o, k) => { if (o.t === 'restart' || o.t === 'closed') ops[k] = { t: 'flush' }; });
      const local = await run({ label: 'local', where: { logDir: tempDir('rlog-diff-') } }, ops, window);
      const backend = jetstream({ servers: server.url, stream: `diff-${process.pid}-${s}`, timeoutMs: 5_000 });
      if (process.env.DUMP === String(s)) process.stdout.write(`window ${window}\n${ops.map((o, k) => `${k} ${JSON.stringify(o)}`).join("\n")}\n${local.join("\n")}\n`);
      const js = await run({ label: 'jetstream', where: { backend } }, ops, window);
      if (process.env.DUMP === String(s)) process.stdout.write(`JETSTREAM\n${js.join('\n')}\n`);
      for (const o of [...local, ...js].filter((x) => x.startsWith('-2 '))) assert.ok(o.endsWith('true]'), `seed ${seed} scenario ${s}: a cursor completes each record once, in order: ${o}`);
      for (let k = 0; k < Math.max(local.length, js.length); k++) {
        if (local[k] !== js[k]) {
          const i = Number((local[k] ?? js[k] ?? '-1').split(' ')[0]);
          assert.unreachable(`seed ${seed} scenario ${s}: observation ${k} differs (op ${i}: ${JSON.stringify(ops[i])})\n  local:     ${local[k]}\n  jetstream: ${js[k]}`);
        }
      }
    }
  });
  test.after(stopAllNats);
}

test.run();
