/**
 * One producer-to-consumer latency run (the suite's latency workload) in a fresh process, so that the
 * heap, threads and files of earlier workloads do not weigh on it. Prints the LatencyRun as one JSON line.
 *
 *   node --import tsx bench/latency-run.ts '{"logDir": "...", "ratePerSec": 100000, "warmMs": 500,
 *     "measureMs": 3000, "durable": false, "pacer": "yield"}'
 *
 * pacer: "spin" (a turn of the event loop per pass: its clock reads allocate, see pace()), "yield"
 * (spins in place without allocating and returns to the event loop when the consumer has records),
 * "seq" (sleeps in Atomics.wait on the log's written counter between sends).
 */
import { SyncPolicy } from '../dist/index.js';
import { iteratorLatencyRun } from './lib/pool-workloads.js';

interface Args { logDir: string; ratePerSec: number; warmMs: number; measureMs: number; durable: boolean; pacer: 'spin' | 'yield' | 'seq' }
const a = JSON.parse(process.argv[2] ?? '{}') as Args;
if (typeof a.logDir !== 'string' || !(a.ratePerSec > 0) || !['spin', 'yield', 'seq'].includes(a.pacer)) {
  throw new Error(`usage: latency-run.ts '{"logDir", "ratePerSec", "warmMs", "measureMs", "durable", "pacer": "spin"|"yield"|"seq"}', got ${process.argv[2]}`);
}
const run = await iteratorLatencyRun({
  logDir: a.logDir, ratePerSec: a.ratePerSec, warmMs: a.warmMs, measureMs: a.measureMs, warmRecords: 1_000,
  syncPolicy: a.durable ? SyncPolicy.always() : SyncPolicy.never(), visibility: a.durable ? 'durable' : 'written',
  pacer: a.pacer,
});
console.log(JSON.stringify(run));
