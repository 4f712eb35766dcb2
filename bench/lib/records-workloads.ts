/**
 * The workloads of bench/records.ts, each run in a fresh process (run.ts inFreshProcess) against the
 * library build named by `dist` (a path to its index.js), so that two builds run side by side in one
 * run: appending 100-byte records plain, with a 16-byte key and two short headers, one by one or in
 * batches of 100, and plain records as long as a keyed one (the same bytes, no attributes to encode);
 * reading them back with iter(); and warm seeks by offset and by time.
 */
import { pathToFileURL } from 'node:url';
import { nowMs } from './run.js';

type Lib = typeof import('../../dist/index.js');
const load = async (dist: string): Promise<Lib> => (await import(pathToFileURL(dist).href)) as Lib;

const RECORD = Buffer.alloc(100, 0x61);
const KEY = 'customer-0000042'; // 16 bytes
const HEADERS = { type: 'order', v: '1' };
/** The keyed record's payload: 100 B of data and its 37-byte attribute block (flags, key, two headers). */
const SAME_BYTES = Buffer.alloc(137, 0x61);

export interface AppendArg {
  readonly dist: string;
  readonly dir: string;
  readonly n: number;
  readonly kind: 'plain' | 'keyed' | 'sameBytes' | 'batch100' | 'single100';
}

/** Appends n records (SyncPolicy.never) and flushes: records per second from the first append to the flush. */
export async function appendRate(a: AppendArg): Promise<number> {
  const { Producer, SyncPolicy } = await load(a.dist);
  const p = await Producer.open({ logDir: a.dir, syncPolicy: SyncPolicy.never(), maxTotalBytes: null });
  try {
    const batch = Array.from({ length: 100 }, () => RECORD);
    const t0 = nowMs();
    if (a.kind === 'plain' || a.kind === 'single100') {
      for (let i = 0; i < a.n; i++) p.append(RECORD);
    } else if (a.kind === 'sameBytes') {
      for (let i = 0; i < a.n; i++) p.append(SAME_BYTES);
    } else if (a.kind === 'keyed') {
      const opts = { key: KEY, headers: HEADERS };
      for (let i = 0; i < a.n; i++) p.append(RECORD, opts);
    } else {
      for (let i = 0; i < a.n; i += 100) p.appendBatch(batch);
    }
    await p.flush();
    return a.n / ((nowMs() - t0) / 1000);
  } finally {
    await p.close();
  }
}

/** Reads the whole log with iter(): records per second. */
export async function readRate(a: { dist: string; dir: string }): Promise<number> {
  const { Consumer, ConsumerStyle, Whence } = await load(a.dist);
  const c = await Consumer.open({ logDir: a.dir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    let count = 0;
    const t0 = nowMs();
    for (const m of c.iter()) count += m.data.byteLength > 0 ? 1 : 0;
    return count / ((nowMs() - t0) / 1000);
  } finally {
    await c.close();
  }
}

/** Warm seeks: opens a consumer at `probes` random offsets (or their records' timestamps) and reads one record; µs each. */
export async function seekCost(a: { dist: string; dir: string; kind: 'position' | 'timestamp'; probes: number; seed: number }): Promise<number> {
  const lib = await load(a.dist);
  const { Consumer, ConsumerStyle, Whence } = lib;
  const all = await Consumer.open({ logDir: a.dir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const stamps: number[] = [];
  for (const m of all.iter()) stamps.push(m.timestamp);
  await all.close();
  let s = a.seed >>> 0 || 1;
  const random = (): number => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
  const whence = (): ReturnType<typeof Whence.position> => {
    const at = Math.floor(random() * stamps.length);
    return a.kind === 'position' ? Whence.position(at) : Whence.timestamp(stamps[at]!);
  };
  const once = async (): Promise<void> => {
    const c = await Consumer.open({ logDir: a.dir, style: ConsumerStyle.nonTx(whence()) });
    c.iter().next();
    await c.close();
  };
  for (let i = 0; i < Math.min(200, a.probes); i++) await once(); // warm: caches and JIT
  const t0 = nowMs();
  for (let i = 0; i < a.probes; i++) await once();
  return ((nowMs() - t0) * 1000) / a.probes;
}
