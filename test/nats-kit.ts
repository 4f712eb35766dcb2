/**
 * nats-server for the tests: started on 127.0.0.1 with a free port and a store directory of its own,
 * ready once a client connects (a bounded retry, never a fixed sleep), stopped and its directory
 * removed when the test file ends. `natsServerBinary()` is null when no nats-server is installed: the
 * JetStream half of a test file is then skipped with a printed reason.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { JetStreamManager } from '@nats-io/jetstream';
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Whence, isLogError, type BackendProducer, type LogBackend } from '../dist/index.js';
import { suite as uvuSuite } from 'uvu';

/** The path of nats-server, or null. */
export function natsServerBinary(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path !== '' ? path : null;
}

/** Why the JetStream half is skipped, printed where the tests would have run. */
export const SKIP_REASON = 'nats-server is not installed (apt-get install -y nats-server): the JetStream half of this file is SKIPPED';

/** A port nobody listens on now (the server binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  readonly proc: ChildProcess;
  /** What the server printed (for a failure's message). */
  output(): string;
  /** SIGTERM, wait for the exit, remove the store directory. */
  stop(): Promise<void>;
}

const running = new Set<NatsServer>();
// A test process that dies (an uncaught error) before its after hook still stops its servers and
// removes their store directories: 'exit' runs synchronous code only, so SIGKILL and rmSync.
process.once('exit', () => {
  for (const s of running) {
    s.proc.kill('SIGKILL');
    rmSync(s.storeDir, { recursive: true, force: true });
  }
});

/**
 * Starts a JetStream server and waits until a client can connect (bounded by `readyMs`). With
 * `again`, a server that was killed starts again on its port and store directory. `config`, when
 * given, is a nats-server configuration (e.g. `jetstream { max_file_store: 200000 }`) written in
 * the store directory and read with `-c`; the flags (port, store directory) take precedence.
 */
export async function startNats(readyMs = 15_000, again?: NatsServer, config?: string): Promise<NatsServer> {
  const bin = natsServerBinary();
  if (bin === null) throw new Error(SKIP_REASON);
  const storeDir = again?.storeDir ?? mkdtempSync(join(tmpdir(), 'rlog-nats-'));
  for (let attempt = 1; ; attempt++) {
    const port = again?.port ?? await freePort();
    const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir];
    if (config !== undefined) {
      writeFileSync(join(storeDir, 'server.conf'), config);
      args.unshift('-c', join(storeDir, 'server.conf'));
    }
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    proc.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    let gone = false;
    void exited.then(() => { gone = true; });
    const url = `nats://127.0.0.1:${port}`;
    const server: NatsServer = {
      url, port, storeDir, proc,
      output: () => out,
      stop: async () => {
        running.delete(server);
        if (!gone) {
          proc.kill('SIGTERM');
          const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(t);
        }
        rmSync(storeDir, { recursive: true, force: true });
      },
    };
    running.add(server);
    const deadline = Date.now() + readyMs;
    while (!gone && Date.now() < deadline) {
      try {
        const nc = await connect({ servers: url, timeout: 500, reconnect: false });
        await nc.close();
        return server;
      } catch {
        await new Promise((r) => setTimeout(r, 20)); // a bounded retry of the readiness condition
      }
    }
    running.delete(server);
    if (!gone) proc.kill('SIGKILL');
    await exited;
    // The port may have been taken between freePort() and the bind: one more try on another port.
    if (attempt >= 3 || again !== undefined) {
      rmSync(storeDir, { recursive: true, force: true });
      throw new Error(`nats-server did not become ready on ${url} within ${readyMs} ms:\n${out}`);
    }
  }
}

/** Stops every server a test file started (the suite's after hook). */
export async function stopAllNats(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

/**
 * Runs `test`; without nats-server, prints why and runs instead one visible test named so (the
 * runner, scripts/run-tests.mjs, counts a file with no test as failed).
 */
export function runOrSkip(test: { run(): void }, name: string): void {
  if (natsServerBinary() !== null) {
    test.run();
    return;
  }
  process.stdout.write(`# ${SKIP_REASON}\n`);
  const skipped = uvuSuite(name);
  skipped(`SKIPPED: ${SKIP_REASON}`, () => undefined);
  skipped.run();
}

/** `p`, or a failure naming `what` once `ms` pass ("HANG: ..."): a handle must never hang past its bounds. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => { t = setTimeout(() => reject(new Error(`HANG: ${what} did not settle within ${ms} ms`)), ms); });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(t);
  }
}

/** Asserts that a handle failed with a coded LogError (not a bare error, not a hang); returns the code. */
export function coded(e: unknown, what: string): string {
  if (e instanceof Error && e.message.startsWith('HANG:')) throw e;
  assert.ok(isLogError(e) && /^ERR_[A-Z_]+$/.test((e as { code: string }).code), `${what} failed with a coded LogError, got: ${String((e as Error)?.stack ?? e)}`);
  process.stdout.write(`#   ${what} failed: ${(e as { code: string }).code} ${(e as Error).message}\n`);
  return (e as { code: string }).code;
}

/** SIGKILLs a single server (unless it already exited) and waits for its exit. */
export async function killNats(s: NatsServer): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => s.proc.once('exit', () => resolve()));
  s.proc.kill('SIGKILL');
  await exited;
}

/** How many consumers the server holds on `stream`. */
export async function consumerCount(jsm: JetStreamManager, stream: string): Promise<number> {
  return (await jsm.consumers.list(stream).next()).length;
}

/**
 * SIGSTOPs a server and waits until every thread of it is stopped (`T` in /proc): the signal is sent
 * at once, but a server running on the other core may still answer what reaches it meanwhile.
 */
export async function pauseNats(s: NatsServer): Promise<void> {
  s.proc.kill('SIGSTOP');
  const pid = s.proc.pid!;
  const stopped = (): boolean => {
    try {
      return readdirSync(`/proc/${pid}/task`).every((t) => {
        const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'T';
      });
    } catch {
      return true; // no /proc: the signal alone
    }
  };
  const until = performance.now() + 5_000;
  while (!stopped()) {
    if (performance.now() > until) throw new Error(`nats-server ${pid} not stopped 5 s after SIGSTOP`);
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * `fn(handle)` for a producer or consumer just opened, then `handle.close()` (its error fails the
 * caller). When `fn` throws, the handle is destroyed before the error goes on: its connection
 * reconnects for good and would keep the test file's process running until the runner kills it.
 */
export async function closeAfter<H extends { close(): Promise<void>; destroy(): Promise<void> }, T>(handle: H, fn: (h: H) => Promise<T> | T): Promise<T> {
  let out: T;
  try {
    out = await fn(handle);
  } catch (e) {
    await handle.destroy().catch(() => undefined);
    throw e;
  }
  await handle.close();
  return out;
}

/** Appends records `r${from}` .. of `n` to a backend's producer, waiting for room when its queue is full, then flushes. */
export async function appendAll(p: BackendProducer, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) {
    try {
      p.append(`r${i}`);
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_LOG_FULL') throw e;
      await p.writable({ bytes: 8 });
      i--;
    }
  }
  await p.flush();
}

/** The records of a JetStream log, as text, from the oldest (a nonTx consumer). */
export async function textsOf(backend: LogBackend): Promise<string[]> {
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const texts: string[] = [];
  try {
    await c.nonblockingProcess(null, (m) => { texts.push(Buffer.from(m.data).toString()); return 'commit'; });
  } finally {
    await c.close();
  }
  return texts;
}

/** How a call ended within 5 s: 'resolved', its error's code, or the plain error (no code). */
export async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await within(run(), 5_000, 'call');
    return 'resolved';
  } catch (e) {
    return (e as { code?: string }).code ?? `plain ${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
}
