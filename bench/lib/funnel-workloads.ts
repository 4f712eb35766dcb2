/**
 * The workloads of bench/funnel.ts, each run in a fresh process (run.ts inFreshProcess): an owner
 * that accepts connections while a remote producer, in a process of its own, appends 100-byte
 * records through it.
 */
import { inFreshProcess, nowMs } from './run.js';

type Lib = typeof import('../../dist/index.js');
const load = async (): Promise<Lib> => (await import(new URL('../../dist/index.js', import.meta.url).href)) as Lib;

const RECORD = Buffer.alloc(100, 0x61);
const SELF = new URL(import.meta.url);

/**
 * Opens the owner (SyncPolicy.never, acceptConnections) and runs `remoteAppend` in a fresh process
 * against it: the remote's records per second.
 */
export async function remoteRate(a: RemoteArg): Promise<number> {
  const { Producer, SyncPolicy } = await load();
  const p = await Producer.open({ logDir: a.dir, syncPolicy: SyncPolicy.never(), maxTotalBytes: null, acceptConnections: true });
  try {
    const rate = await inFreshProcess<number>(SELF, 'remoteAppend', a);
    if (p.nextOffset !== a.n) throw new Error(`the owner holds ${p.nextOffset} records, ${a.n} were sent`);
    return rate;
  } finally {
    await p.close();
  }
}

export interface RemoteArg {
  readonly dir: string;
  readonly n: number;
  /** 0: every append issued at once; w: the previous window's last append is awaited after each w appends. */
  readonly window: number;
}

/**
 * Connects and appends n records pipelined (no await per record), then flush(): records per second
 * from the first append to the flush.
 */
export async function remoteAppend(a: RemoteArg): Promise<number> {
  const { Producer } = await load();
  const remote = await Producer.connect({ logDir: a.dir });
  try {
    const t0 = nowMs();
    let last: Promise<number> = Promise.resolve(0);
    let previous = last;
    for (let i = 0; i < a.n; i++) {
      last = remote.append(RECORD);
      if (a.window > 0 && i % a.window === a.window - 1) {
        await previous;
        previous = last;
      }
    }
    await remote.flush();
    if ((await last) !== a.n - 1) throw new Error('the last record did not get the last offset');
    return a.n / ((nowMs() - t0) / 1000);
  } finally {
    await remote.close();
  }
}
