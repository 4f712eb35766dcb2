/**
 * Owner locks held by the kernel (src/storage/lock.ts): one producer per directory and one owner per
 * transactional cursor, whoever contends: processes, worker threads, and the ESM and CommonJS copies of
 * the library in one process. Rounds start every contender at once on a lock a SIGKILLed owner left
 * behind and check that exactly one wins; an opener slowed between its open and its lock while the
 * owner releases and a newcomer takes the lock must lose; something that is not a regular file at the
 * lock path is refused and changes nothing.
 */
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as esm from '../dist/index.js';
import { suite, tempDir, rejectsWith, digestDir, waitFor } from './kit.js';
import { Child, type ChildMessage } from './child.js';

const test = suite('locks');
const cjs = createRequire(import.meta.url)('../dist/index.cjs') as typeof esm;
type Lib = typeof esm;
type Kind = 'producer' | 'cursor';
const ROUNDS = Number(process.env.LOCK_ROUNDS ?? 3);
const RECORDS_PER_WIN = 50;

interface Result { readonly ok: boolean; readonly code?: string | null; readonly message?: string }

/** One contender: something that opens when told and holds what it got until released. */
interface Contender {
  readonly name: string;
  go(): Promise<Result>;
  release(): Promise<void>;
}

/** A child process or a worker thread running test/fixtures/lock-contender.mjs. */
class Remote implements Contender {
  private readonly workerExited: Promise<unknown>;
  private constructor(readonly name: string, private readonly child: Child | null, private readonly worker: Worker | null, private readonly inbox: ChildMessage[]) {
    this.workerExited = worker === null ? Promise.resolve() : new Promise((r) => worker.once('exit', r));
  }

  static async process(logDir: string, kind: Kind, copy: 'esm' | 'cjs', env: NodeJS.ProcessEnv = process.env): Promise<Remote> {
    const child = Child.fork('lock-contender.mjs', [logDir, kind, copy], { execArgv: [], env });
    await child.next('ready');
    return new Remote(`process(${copy})`, child, null, []);
  }

  static async thread(logDir: string, kind: Kind, copy: 'esm' | 'cjs'): Promise<Remote> {
    const worker = new Worker(new URL('./fixtures/lock-contender.mjs', import.meta.url), { workerData: [logDir, kind, copy], execArgv: [] });
    const r = new Remote(`thread(${copy})`, null, worker, []);
    worker.on('message', (m: ChildMessage) => r.inbox.push(m));
    await r.next('ready');
    return r;
  }

  private async next(type: string): Promise<ChildMessage> {
    if (this.child !== null) return this.child.next(type);
    await waitFor(() => this.inbox.some((m) => m.type === type), `"${type}" from ${this.name}`);
    return this.inbox.splice(this.inbox.findIndex((m) => m.type === type), 1)[0]!;
  }

  /** Whether the contender answered 'go' already (without taking the answer). */
  answered(): boolean {
    return (this.child?.pending ?? this.inbox).some((m) => m.type === 'result');
  }

  async go(): Promise<Result> {
    this.send({ type: 'go', records: RECORDS_PER_WIN });
    return (await this.next('result')) as unknown as Result;
  }

  async release(): Promise<void> {
    this.send({ type: 'release' });
    await this.next('released');
    await (this.child !== null ? this.child.exited : this.workerExited);
  }

  send(m: ChildMessage): void {
    if (this.child !== null) this.child.send(m);
    else this.worker!.postMessage(m);
  }

  async kill(): Promise<void> {
    if (this.child !== null) await this.child.kill();
    else await this.worker!.terminate();
  }
}

/** A contender in this very thread, through one copy of the library. */
class Local implements Contender {
  private held: { close(): Promise<void> } | null = null;
  constructor(readonly name: string, private readonly lib: Lib, private readonly logDir: string, private readonly kind: Kind) {}

  async go(): Promise<Result> {
    try {
      if (this.kind === 'producer') {
        const p = await this.lib.Producer.open({ logDir: this.logDir });
        this.held = p;
        for (let i = 0; i < RECORDS_PER_WIN; i++) p.append(`${this.name}:${i}`);
        await p.flush();
      } else {
        this.held = await this.lib.Consumer.open({ logDir: this.logDir, style: this.lib.ConsumerStyle.clientTx('billing') });
      }
      return { ok: true };
    } catch (e) {
      return { ok: false, code: (e as { code?: string }).code ?? null, message: String((e as Error).message) };
    }
  }

  async release(): Promise<void> {
    await this.held?.close();
    this.held = null;
  }
}

async function storedRecords(logDir: string): Promise<number> {
  const c = await esm.Consumer.open({ logDir, style: esm.ConsumerStyle.nonTx(esm.Whence.oldest()) });
  let n = 0;
  for (const _ of c.iter()) n++;
  await c.close();
  return n;
}

/** A lock file left by an owner that was SIGKILLed while it held the lock. */
async function staleLockOf(logDir: string, kind: Kind): Promise<void> {
  const owner = await Remote.process(logDir, kind, 'esm');
  assert.ok((await owner.go()).ok, 'the first owner opens');
  await owner.kill();
  const lockFile = kind === 'producer' ? join(logDir, 'producer.lock') : join(logDir, 'cursors', 'client.billing.lock');
  assert.ok(JSON.parse(readFileSync(lockFile, 'utf8')).pid > 0, 'the dead owner\'s lock file is still there');
}

async function contendOnce(logDir: string, kind: Kind, round: number): Promise<void> {
  const lockName = kind === 'producer' ? 'producer\\.lock$' : 'billing\\.lock$';
  // One opener is slowed for 150 ms before its open of the lock file, as the takeover race needed.
  const slowEnv = { ...process.env, REACTIVE_LOG_TEST_FILE_IO: new URL('./fixtures/fault-io.mjs', import.meta.url).pathname,
    REACTIVE_LOG_FAULTS: JSON.stringify({ rules: [{ op: 'open', path: lockName, thread: 'main', nth: 1, effect: { delayMs: 150 } }] }) };
  // The remote contenders start side by side (each waits, ready, until go()).
  const contenders: Contender[] = [
    ...await Promise.all([
      Remote.process(logDir, kind, 'esm'),
      Remote.process(logDir, kind, 'cjs'),
      Remote.process(logDir, kind, 'esm', slowEnv),
      Remote.thread(logDir, kind, 'esm'),
      Remote.thread(logDir, kind, 'cjs'),
    ]),
    new Local('main(esm)', esm, logDir, kind),
    new Local('main(cjs)', cjs, logDir, kind),
  ];
  const results = await Promise.all(contenders.map((c) => c.go()));
  const winners = contenders.filter((_, i) => results[i]!.ok).map((c) => c.name);
  const wrongCode = kind === 'producer' ? 'ERR_LOG_LOCKED' : 'ERR_CURSOR_LOCKED';
  const odd = results.filter((r) => !r.ok && r.code !== wrongCode);
  assert.equal(odd, [], `round ${round}: every loser fails with ${wrongCode}`);
  assert.is(winners.length, 1, `round ${round}: exactly one owner, got ${winners.join(', ') || 'none'}`);
  await Promise.all(contenders.map((c) => c.release()));
}

for (const kind of ['producer', 'cursor'] as const) {
  test(`${kind} lock: ${ROUNDS} rounds of 7 contenders (processes, threads, both module copies) on a SIGKILLed owner's lock: exactly one owner`, async () => {
    const logDir = tempDir();
    const p = await esm.Producer.open({ logDir });
    p.append('seed');
    await p.close();
    for (let round = 0; round < ROUNDS; round++) {
      await staleLockOf(logDir, kind);
      await contendOnce(logDir, kind, round);
    }
    // Every producer that won appended and flushed its records; none was lost to a second owner.
    const winsWithRecords = kind === 'producer' ? ROUNDS * 2 : 0; // the stale owner and the winner of each round
    assert.is(await storedRecords(logDir), 1 + winsWithRecords * RECORDS_PER_WIN);
  });
}

for (const kind of ['producer', 'cursor'] as const) {
  test(`${kind} lock: an opener slowed between its open and its lock, while the owner releases and a newcomer takes over, loses`, async () => {
    const logDir = tempDir();
    const seed = await esm.Producer.open({ logDir });
    seed.append('seed');
    await seed.close();
    const trace = join(tempDir(), 'trace');
    const owner = new Local('owner', esm, logDir, kind);
    assert.ok((await owner.go()).ok);
    // The slow opener stops for 3 s in its tryLock call, after it opened the owner's lock file.
    const lockName = kind === 'producer' ? 'producer\\.lock$' : 'billing\\.lock$';
    const env = { ...process.env, REACTIVE_LOG_TEST_FILE_IO: new URL('./fixtures/fault-io.mjs', import.meta.url).pathname,
      REACTIVE_LOG_FAULTS: JSON.stringify({ trace, rules: [{ op: 'tryLock', path: lockName, thread: 'main', nth: 1, effect: { delayMs: 3000 } }] }) };
    const slow = await Remote.process(logDir, kind, 'esm', env);
    const slowResult = slow.go();
    await waitFor(() => { try { return readFileSync(trace, 'utf8').includes('FIRE'); } catch { return false; } }, 'the slow opener to reach its lock call');
    await owner.release();
    const newcomer = new Local('newcomer', cjs, logDir, kind);
    assert.ok((await newcomer.go()).ok, 'the newcomer takes the released lock');
    assert.not.ok(slow.answered(), 'the scenario needs the newcomer to win before the slow opener resumes');
    const r = await slowResult;
    assert.equal({ ok: r.ok, code: r.code }, { ok: false, code: kind === 'producer' ? 'ERR_LOG_LOCKED' : 'ERR_CURSOR_LOCKED' },
      'the slow opener locked a file that was no longer the lock file, and must not count it');
    await newcomer.release();
    await slow.release();
  });
}

test('the ESM and CommonJS copies in one process exclude each other, for the producer and for a cursor', async () => {
  const logDir = tempDir();
  const p = await esm.Producer.open({ logDir });
  await rejectsWith(cjs.Producer.open({ logDir }), 'ERR_LOG_LOCKED');
  const c = await cjs.Consumer.open({ logDir, style: cjs.ConsumerStyle.clientTx('billing') });
  await rejectsWith(esm.Consumer.open({ logDir, style: esm.ConsumerStyle.clientTx('billing') }), 'ERR_CURSOR_LOCKED');
  await c.close();
  await p.close();
  const q = await cjs.Producer.open({ logDir });
  await q.close();
});

test('a directory at the lock path is refused with ERR_LOG_CORRUPT and the log directory is left as it was', async () => {
  const logDir = tempDir();
  const p = await esm.Producer.open({ logDir });
  p.append('r0');
  await p.close();
  mkdirSync(join(logDir, 'producer.lock'));
  const before = digestDir(logDir);
  const names = readdirSync(logDir).sort();
  const err = await rejectsWith(esm.Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
  assert.match(err.message, /producer\.lock/);
  assert.is(digestDir(logDir), before);
  assert.equal(readdirSync(logDir).sort(), names);

  mkdirSync(join(logDir, 'cursors'), { recursive: true });
  mkdirSync(join(logDir, 'cursors', 'client.billing.lock'));
  writeFileSync(join(logDir, 'cursors', 'keep'), 'x');
  const cursorsBefore = readdirSync(join(logDir, 'cursors')).sort();
  await rejectsWith(esm.Consumer.open({ logDir, style: esm.ConsumerStyle.clientTx('billing') }), 'ERR_LOG_CORRUPT');
  assert.equal(readdirSync(join(logDir, 'cursors')).sort(), cursorsBefore);
});

test.run();
