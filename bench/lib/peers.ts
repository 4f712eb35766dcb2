/**
 * The throughput cells of every system, each system in its own child process (a plain node running
 * bench/peers/runners/<system>.mjs: no tsx, no shared heap or event loop with the parent or the other
 * systems).
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

export type SystemName = 'reactive-log' | 'lmdb' | 'better-sqlite3' | 'redis' | 'nats' | 'raw writes' | 'raw 16 MiB writes' | 'raw pipeline';
export const SYSTEMS: readonly SystemName[] = ['reactive-log', 'lmdb', 'better-sqlite3', 'redis', 'nats'];
/** The physical limit: 1 MiB writes on one thread (bench/peers/runners/raw.mjs), run just before each system. */
export const RAW_SYSTEM: SystemName = 'raw writes';
/** The other raw configurations, run once a repetition: 16 MiB writes, and 1 MiB chunks written and fsynced by a worker while the main thread fills the next. */
export const RAW_OTHERS: readonly SystemName[] = ['raw 16 MiB writes', 'raw pipeline'];

/**
 * The runner of each system and the npm package it needs from bench/peers (null: none). What each
 * acknowledgement means and what each system stores per record: the runner's header comment, and
 * docs/performance.md, "The peers".
 */
export const INFO: Record<SystemName, { readonly runner: string; readonly pkg: string | null; readonly spec?: object }> = {
  'reactive-log': { runner: 'reactive-log.mjs', pkg: null },
  lmdb: { runner: 'lmdb.mjs', pkg: 'lmdb' },
  'better-sqlite3': { runner: 'sqlite.mjs', pkg: 'better-sqlite3' },
  redis: { runner: 'redis.mjs', pkg: 'ioredis' },
  nats: { runner: 'nats.mjs', pkg: 'nats' },
  'raw writes': { runner: 'raw.mjs', pkg: null },
  'raw 16 MiB writes': { runner: 'raw.mjs', pkg: null, spec: { chunkBytes: 16 * 1024 * 1024 } },
  'raw pipeline': { runner: 'raw.mjs', pkg: null, spec: { pipeline: true } },
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
  const res = await inChild<{ cells: CellResult[] }>(`${RUNNERS}${INFO[sys].runner}`, [JSON.stringify({ cells, ...ports, ...INFO[sys].spec })], { timeoutMs });
  return res.cells;
}
