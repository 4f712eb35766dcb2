/**
 * The workloads of bench/ops.ts, each run in a fresh process: 100-byte appends with every
 * reactive-log diagnostics channel subscribed or none, and warm inspectLog calls on a large log.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { Producer, SyncPolicy, inspectLog } from '../../dist/index.js';
import { nowMs } from './run.js';

const CHANNELS = ['recovery', 'roll', 'retention', 'writer-failure', 'dead-letter'].map((e) => `reactive-log:${e}`);

/**
 * Appends n records of 100 B (SyncPolicy.never, 8 MiB segments so that the writer rolls and publishes
 * roll events) up to the last flush; records per second. `subscribed`: a subscriber on every channel.
 */
export async function channelAppendRate(a: { dir: string; n: number; subscribed: boolean }): Promise<number> {
  let events = 0;
  const onEvent = (): void => { events++; };
  if (a.subscribed) for (const c of CHANNELS) diagnosticsChannel.subscribe(c, onEvent);
  const p = await Producer.open({ logDir: a.dir, syncPolicy: SyncPolicy.never(), maxTotalBytes: null, fileRollSize: 8 * 1024 * 1024 });
  const record = Buffer.alloc(100, 0x61);
  const t0 = nowMs();
  for (let i = 0; i < a.n; i++) p.append(record);
  await p.flush();
  const rate = a.n / ((nowMs() - t0) / 1000);
  await p.close();
  if (a.subscribed && events === 0) throw new Error('subscribed, and no event was published: the workload does not exercise the channels');
  return rate;
}

/** Writes a log of n records of 100 B (SyncPolicy.never, default segment size); returns its bytes on disk. */
export async function writeLog(a: { dir: string; n: number }): Promise<number> {
  const p = await Producer.open({ logDir: a.dir, syncPolicy: SyncPolicy.never(), maxTotalBytes: null });
  const record = Buffer.alloc(100, 0x62);
  for (let i = 0; i < a.n; i++) {
    p.append(record);
    if ((i & 0xffff) === 0) await p.writable({ bytes: 100 });
  }
  await p.close();
  return (await inspectLog(a.dir)).totalBytes;
}

/** `reps` warm inspectLog calls on the log in `dir` (after `warm` untimed ones); ms each. */
export async function inspectCost(a: { dir: string; warm: number; reps: number }): Promise<number[]> {
  for (let i = 0; i < a.warm; i++) await inspectLog(a.dir);
  const out: number[] = [];
  for (let i = 0; i < a.reps; i++) {
    const t0 = nowMs();
    await inspectLog(a.dir);
    out.push(nowMs() - t0);
  }
  return out;
}

/**
 * `reps` control calls (producer.segments(), answered by the writer thread) after `warm` untimed
 * ones; µs each. `appendsBetween` records are appended before each call (0: the writer is idle,
 * asleep in its wait, and the call wakes it).
 */
export async function controlCallCost(a: { dir: string; warm: number; reps: number; appendsBetween: number }): Promise<number[]> {
  const p = await Producer.open({ logDir: a.dir, syncPolicy: SyncPolicy.never(), maxTotalBytes: null });
  const record = Buffer.alloc(100, 0x63);
  const out: number[] = [];
  for (let i = 0; i < a.warm + a.reps; i++) {
    for (let j = 0; j < a.appendsBetween; j++) p.append(record);
    const t0 = nowMs();
    const segments = await p.segments();
    if (i >= a.warm) out.push((nowMs() - t0) * 1000);
    if (segments.length === 0) throw new Error('no segment listed');
  }
  await p.close();
  return out;
}

/**
 * The floor for a control call: `reps` round trips of a small message over a MessagePort to a worker
 * thread that answers from its event loop, after `warm` untimed ones; µs each.
 */
export async function portRoundTripCost(a: { warm: number; reps: number }): Promise<number[]> {
  const { Worker } = await import('node:worker_threads');
  const echo = new Worker("require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m));", { eval: true });
  const roundTrip = (m: unknown): Promise<unknown> => new Promise((resolve) => { echo.once('message', resolve); echo.postMessage(m); });
  const out: number[] = [];
  for (let i = 0; i < a.warm + a.reps; i++) {
    const t0 = nowMs();
    await roundTrip({ id: i, type: 'APPLY', path: ['segments'], argumentList: [] });
    if (i >= a.warm) out.push((nowMs() - t0) * 1000);
  }
  await echo.terminate();
  return out;
}
