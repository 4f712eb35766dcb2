/**
 * The throughput cells of every system, each system in its own child process (a plain node running
 * bench/peers/runners/<system>.mjs: no tsx, no shared heap or event loop with the parent or the other
 * systems). What each system is, how its acknowledgement is defined and what it stores per record.
 * ensurePeers installs what is missing (scripts/bench-setup.mjs) and throws if a peer still cannot run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inChild, log } from './run.js';
import { serverMissing, startNats, startRedis, type Server } from './servers.js';

export type Level = 'never' | 'periodic' | 'always';
export const LEVELS: readonly Level[] = ['never', 'periodic', 'always'];
export const LEVEL_TEXT: Record<Level, string> = { never: 'no sync', periodic: 'periodic sync', always: 'fsynced before ack' };

export type SystemName = 'reactive-log' | 'lmdb' | 'better-sqlite3' | 'redis' | 'nats' | 'raw writes';
export const SYSTEMS: readonly SystemName[] = ['reactive-log', 'lmdb', 'better-sqlite3', 'redis', 'nats'];
/** The physical limit, run as one more cell of the matrix (bench/peers/runners/raw.mjs). */
export const RAW_SYSTEM: SystemName = 'raw writes';

export interface SystemInfo {
  readonly runner: string;
  /** The npm package the runner needs from bench/peers (null: the library itself). */
  readonly pkg: string | null;
  /** What the acknowledgement counted means, per level. */
  readonly ack: string;
  /** Bytes stored per record beyond the payload, as the docs or format describe them. */
  readonly framing: string;
}

export const INFO: Record<SystemName, SystemInfo> = {
  'reactive-log': {
    runner: 'reactive-log.mjs', pkg: null,
    ack: 'never/periodic: the record is in a segment file (writtenOffset); always: flush() resolved, the fsync covering it returned (group commit)',
    framing: '4 B length prefix per record + 44 B per batch frame (header, CRC, trailer); a sparse index',
  },
  lmdb: {
    runner: 'lmdb.mjs', pkg: 'lmdb',
    ack: 'always: the put promises of a batch resolved and db.flushed (commit synced); never: committed with noSync (in the memory map only)',
    framing: 'B+tree: 4 B key + 8 B node header per record, page headers, copy-on-write of branch pages, free-list',
  },
  'better-sqlite3': {
    runner: 'sqlite.mjs', pkg: 'better-sqlite3',
    ack: 'the transaction (one per batch) returned: FULL fsyncs the WAL per commit, NORMAL only at checkpoints, OFF never',
    framing: 'rowid + record header in a B-tree leaf; every changed page is written twice (WAL, then the checkpoint into the db file)',
  },
  redis: {
    runner: 'redis.mjs', pkg: 'ioredis',
    ack: 'the pipeline\'s replies arrived: appendfsync always = AOF fsynced before the replies of that event-loop turn; everysec/no = written to the AOF only',
    framing: 'RESP command in the AOF (~60-80 B per XADD with its ID and field name) + listpack entry in memory; all data also in RAM',
  },
  'raw writes': {
    runner: 'raw.mjs', pkg: null,
    ack: 'never: written with writeSync (page cache); periodic: plus fdatasync once a second; always: fdatasync after every 1 MiB chunk',
    framing: 'none: the payload bytes back to back',
  },
  nats: {
    runner: 'nats.mjs', pkg: 'nats',
    ack: 'PubAck received: nats-server 2.9 stored the message in its block file, NOT fsynced (no fsync-before-ack mode before 2.10)',
    framing: 'per message in the block file: 22 B header + subject + 8 B hash; NATS protocol ~50 B per publish with reply inbox',
  },
};

export interface Cell {
  readonly recordBytes: number;
  readonly level: Level;
  readonly warmMs: number;
  readonly measureMs: number;
  readonly batchRecords: number;
  readonly dir: string;
}

export interface CellResult extends Cell {
  readonly records?: number;
  readonly seconds?: number;
  readonly recPerSec?: number;
  readonly diskBytes?: number | null;
  /** The system has no mode for this cell's level: why. */
  readonly skipped?: string;
}

const RUNNERS = fileURLToPath(new URL('../peers/runners/', import.meta.url));
const PEER_MODULES = fileURLToPath(new URL('../peers/node_modules/', import.meta.url));
const SETUP = fileURLToPath(new URL('../../scripts/bench-setup.mjs', import.meta.url));

/** What the peers lack here: npm packages not in bench/peers/node_modules, servers not installed. */
function lacking(): string[] {
  const pkgs = SYSTEMS.map((s) => INFO[s].pkg).filter((p): p is string => p !== null && !existsSync(`${PEER_MODULES}${p}/package.json`));
  return [...pkgs.map((p) => `npm package ${p} in bench/peers`), ...serverMissing()];
}

/**
 * Makes sure every peer can run: when a package or a server is missing, runs the setup
 * (scripts/bench-setup.mjs: npm ci in bench/peers, apt-get install redis-server nats-server), then
 * starts the servers. Throws, naming what is missing, if the setup could not install it.
 */
export async function ensurePeers(root: string): Promise<{ ports: { redisPort: number; natsPort: number }; servers: Server[] }> {
  if (lacking().length > 0) {
    log(`peers: missing ${lacking().join(', ')}: running npm run bench:setup...`);
    spawnSync(process.execPath, [SETUP], { stdio: 'inherit' });
    const still = lacking();
    if (still.length > 0) throw new Error(`the benchmark needs every peer, and these are missing after npm run bench:setup: ${still.join(', ')}`);
  }
  const redis = await startRedis(root);
  const nats = await startNats(root).catch(async (e: unknown) => {
    await redis.stop();
    throw e;
  });
  for (const s of [redis, nats]) log(`  ${s.name}: ${s.version} on 127.0.0.1:${s.port}`);
  return { ports: { redisPort: redis.port, natsPort: nats.port }, servers: [redis, nats] };
}

/** Records per batch (one transaction, pipeline or append run): about 1 MiB, at most 4096 records. */
export function batchRecords(recordBytes: number): number {
  return Math.max(1, Math.min(4096, Math.floor((1024 * 1024) / recordBytes)));
}

/** Runs `cells` in a fresh child of `sys`; a child that fails throws with its error. */
export async function runSystem(sys: SystemName, cells: readonly Cell[], ports: { redisPort: number; natsPort: number }, timeoutMs: number): Promise<CellResult[]> {
  const res = await inChild<{ cells: CellResult[] }>(`${RUNNERS}${INFO[sys].runner}`, [JSON.stringify({ cells, ...ports })], { timeoutMs });
  return res.cells;
}
