/**
 * The first read of a log in a process (cold for the reader: no frame of it checked yet; the files in
 * the page cache), for reactive-log and for the raw reader with CRC checks (bench/lib/limits.ts
 * rawReadParse), each in a fresh process (bench/lib/run.ts inFreshProcess). Before the timed read the
 * same reader reads another log of the same shape whole, untimed: the compiled code and the memory
 * allocator are then warm in both cases, and what differs from a warm read is the checking alone.
 */
import { Consumer, ConsumerStyle, Whence } from '../../dist/index.js';
import { rawReadParse } from './limits.js';
import { RECORD_BYTES } from './workloads.js';
import { nowMs } from './run.js';

export interface ColdReadSpec {
  readonly reader: 'raw-crc' | 'reactive-log';
  /** The log read first, untimed. */
  readonly warmDir: string;
  readonly warmRecords: number;
  /** The log timed. */
  readonly dir: string;
  readonly records: number;
}

/** reactive-log's iter() from the oldest record to the end; records/s. */
async function readAll(logDir: string, expected: number): Promise<number> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    let records = 0;
    let bytes = 0;
    const t0 = nowMs();
    for (const m of c.iter()) {
      bytes += m.data.byteLength;
      records++;
    }
    const seconds = (nowMs() - t0) / 1000;
    if (records !== expected || bytes !== records * RECORD_BYTES) throw new Error(`cold read: ${bytes} bytes in ${records} records, expected ${expected}`);
    return records / seconds;
  } finally {
    await c.close();
  }
}

/** Runs in the fresh process: the warm-up read, then the timed one. Returns records/s. */
export async function coldRead(spec: ColdReadSpec): Promise<number> {
  if (spec.reader === 'raw-crc') {
    rawReadParse(spec.warmDir, true, spec.warmRecords);
    return rawReadParse(spec.dir, true, spec.records);
  }
  await readAll(spec.warmDir, spec.warmRecords);
  return readAll(spec.dir, spec.records);
}
