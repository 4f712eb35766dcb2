/**
 * The servers some peers need: redis-server and nats-server from Debian's packages, started by the
 * benchmark on 127.0.0.1 on free ports with their data in the run's temporary directory, stopped at the
 * end (or by the runner's cleanup on error). A server that does not come up throws.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { sleep, trackChild } from './run.js';

export interface Server {
  readonly name: string;
  readonly port: number;
  readonly version: string;
  stop(): Promise<void>;
}

/** A TCP port nobody listens on now (asks the kernel for one on 127.0.0.1). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

function which(bin: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${bin} || ls /usr/sbin/${bin} /usr/bin/${bin} 2>/dev/null | head -1`], { encoding: 'utf8' });
  const p = r.stdout.trim().split('\n')[0] ?? '';
  return p === '' ? null : p;
}

/** The server binaries not installed here. */
export function serverMissing(): string[] {
  return ['redis-server', 'nats-server'].filter((bin) => which(bin) === null);
}

async function start(name: string, bin: string, versionArgs: string[], args: (port: number, dir: string) => string[], dir: string): Promise<Server> {
  const path = which(bin);
  if (path === null) throw new Error(`${bin} not installed (run npm run bench:setup)`);
  const version = spawnSync(path, versionArgs, { encoding: 'utf8' }).stdout.trim().split('\n')[0] ?? '?';
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = spawn(path, args(port, dir), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  trackChild(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  for (let i = 0; i < 100 && !exited; i++) {
    if (await accepts(port)) {
      return {
        name, port, version,
        async stop() {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await gone;
          clearTimeout(t);
        },
      };
    }
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`${bin} did not accept connections on 127.0.0.1:${port}${stderr ? `: ${stderr.trim().slice(0, 200)}` : ''}`);
}

/** redis-server with the append-only file on (appendfsync is set per cell by the runner); no RDB snapshots. */
export function startRedis(root: string): Promise<Server> {
  return start('redis', 'redis-server', ['--version'], (port, dir) => [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always',
    '--save', '', '--auto-aof-rewrite-percentage', '0', '--daemonize', 'no', '--loglevel', 'warning',
  ], join(root, 'redis'));
}

/** nats-server with JetStream, its store in the run's directory. */
export function startNats(root: string): Promise<Server> {
  return start('nats', 'nats-server', ['--version'], (port, dir) => ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], join(root, 'nats'));
}
