/**
 * The workloads of bench/funnel.ts, each run in a fresh process (run.ts inFreshProcess): an owner
 * that accepts connections while a remote producer, in a process of its own, appends 100-byte
 * records through it; and the transport's own limit: the same bytes through a Unix socket from one
 * process to another, with nothing done to them.
 */
import { mkdirSync } from 'node:fs';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
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

/** Bytes of a 100-byte record with its 4-byte length, as the funnel's batches carry it. */
const FRAMED_RECORD_BYTES = 104;
/** Records per write of the raw sender. */
const RAW_CHUNK_RECORDS = 10_000;

/**
 * The physical limit of the funnel's transport: a process sends n framed 100-byte records' worth of
 * bytes through a Unix socket in large writes, and this one reads them all; records per second from
 * the connection to the end of the stream.
 */
export async function socketRate(a: { dir: string; n: number }): Promise<number> {
  mkdirSync(a.dir, { recursive: true });
  const path = join(a.dir, 'raw.sock');
  let bytes = 0;
  const server = createServer();
  const done = new Promise<number>((resolve, reject) => {
    server.on('connection', (sock) => {
      const t0 = nowMs();
      sock.on('data', (d: Buffer) => { bytes += d.length; });
      sock.on('end', () => resolve(nowMs() - t0));
      sock.on('error', reject);
    });
  });
  server.listen(path);
  await once(server, 'listening');
  try {
    const [ms] = await Promise.all([done, inFreshProcess<number>(SELF, 'socketSend', { path, n: a.n })]);
    if (bytes !== a.n * FRAMED_RECORD_BYTES) throw new Error(`read ${bytes} bytes, ${a.n * FRAMED_RECORD_BYTES} were sent`);
    return a.n / (ms / 1000);
  } finally {
    server.close();
  }
}

/** The sender of socketRate: n records' worth of bytes in writes of RAW_CHUNK_RECORDS records. */
export async function socketSend(a: { path: string; n: number }): Promise<number> {
  const sock = connect(a.path);
  await once(sock, 'connect');
  const chunk = Buffer.alloc(FRAMED_RECORD_BYTES * RAW_CHUNK_RECORDS, 0x61);
  for (let sent = 0; sent < a.n; sent += RAW_CHUNK_RECORDS) {
    const k = Math.min(RAW_CHUNK_RECORDS, a.n - sent);
    if (!sock.write(k === RAW_CHUNK_RECORDS ? chunk : chunk.subarray(0, k * FRAMED_RECORD_BYTES))) await once(sock, 'drain');
  }
  sock.end();
  await once(sock, 'close');
  return a.n;
}
