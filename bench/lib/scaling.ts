/**
 * Pool scaling: a pre-filled log processed by nonblockingProcess with a CPU-bound handler module
 * (bench/fixtures/pool-spin-handler.mjs: FNV-1a rounds over the record, calibrated to about 20 µs a
 * record) in a pool of 1 or 2 workers, and the same handler called inline (no log, no pool) as the
 * reference. The ceiling, the same work in bare threads, is limits.ts parallelSpeedup.
 */
import { Consumer, ConsumerStyle, Whence, type Handler, type Message, type ProcessContext } from '../../dist/index.js';
import { RECORD_BYTES, spin } from '../fixtures/pool-shared.mjs';
import { cpuSeconds, nowMs, summarize, type Summary } from './run.js';

const SPIN_HANDLER = new URL('../fixtures/pool-spin-handler.mjs', import.meta.url);

export interface ScalingRun {
  readonly recPerSec: number;
  /** CPU seconds of the process (all threads) over the timed call, per wall second: cores in use. */
  readonly coresUsed: number;
}

/**
 * One run with a new nonTx consumer from the oldest record: a warm-up call over the first `warmN`
 * records (starts the pool's workers, loads the handler, lets the JIT compile it; same consumer, so the
 * same pool), then the timed call over the remaining `n`.
 */
export async function scalingRun(logDir: string, workers: number, warmN: number, n: number): Promise<ScalingRun> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const warm = await c.nonblockingProcess(warmN, SPIN_HANDLER, { workers });
    if (warm.committed !== warmN) throw new Error(`scaling warm-up: committed ${warm.committed} of ${warmN}`);
    const cpu0 = process.cpuUsage();
    const t0 = nowMs();
    const s = await c.nonblockingProcess(null, SPIN_HANDLER, { workers });
    const seconds = (nowMs() - t0) / 1000;
    if (s.committed !== n) throw new Error(`scaling (${workers} workers): committed ${s.committed} of ${n} (${s.stoppedBy})`);
    return { recPerSec: n / seconds, coresUsed: cpuSeconds(cpu0) / seconds };
  } finally {
    await c.close();
  }
}

/** The handler module's default export called inline on this thread, n times, no log: records/s. */
export async function inlineRate(n: number): Promise<number> {
  const handler = ((await import(SPIN_HANDLER.href)) as { default: Handler }).default;
  const data = Buffer.alloc(RECORD_BYTES, 0x63);
  const msg: Message = { offset: 0, data: new Uint8Array(data.buffer, data.byteOffset, RECORD_BYTES), timestamp: 0, key: null, headers: null };
  const ctx: ProcessContext = { attempt: 1, logId: 'inline', offset: 0, state: null, setState() { /* unused */ } };
  const t0 = nowMs();
  for (let i = 0; i < n; i++) handler(msg, ctx);
  return n / ((nowMs() - t0) / 1000);
}

/**
 * Rounds of spin() for about `targetUs` a record on this thread: JIT warm-up, then a probe scaled to
 * the target. Returns the rounds and the µs a record then takes (5 probes).
 */
export function calibrate(targetUs: number): { rounds: number; usPerRecord: Summary } {
  const data = Buffer.alloc(RECORD_BYTES, 0x63);
  let h = 0;
  const timeUs = (rounds: number, calls: number): number => {
    const t0 = nowMs();
    for (let i = 0; i < calls; i++) h ^= spin(data, rounds);
    return ((nowMs() - t0) * 1000) / calls;
  };
  timeUs(200, 5_000); // JIT warm-up
  const perRound = summarize(Array.from({ length: 5 }, () => timeUs(200, 2_000) / 200)).median;
  const rounds = Math.max(1, Math.round(targetUs / perRound));
  const usPerRecord = summarize(Array.from({ length: 5 }, () => timeUs(rounds, 5_000)));
  if (h === 0x5eed) console.log('(sink)');
  return { rounds, usPerRecord };
}
