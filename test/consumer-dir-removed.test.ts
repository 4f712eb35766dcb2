/**
 * The log directory removed (rm -rf) under a blocking consumer waiting at the log's end: the call or
 * loop fails with ERR_IO naming the directory, as `tail -f` does, in every style, in the producer's
 * process (whose producer then fails: the consumer goes on to the files) and reading the files, and
 * with a worker pool. Before, a consumer reading only durable records (clientTx, globalTx,
 * `visibility: 'durable'`) read no file at its end and waited until close(), which ended it as if
 * nothing had happened (stoppedBy 'end', the loop done).
 */
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { Consumer, ConsumerStyle, Producer, Whence, type ConsumerOptions } from '../dist/index.js';
import { guarded, handler } from './pool-kit.js';
import { rejectsWith, suite, tempDir, waitFor } from './kit.js';

const test = suite('consumer: log directory removed under a blocking consumer');

type Style = ConsumerOptions['style'];

/** A log of 3 durable records; its producer left open (`live`) or closed. */
async function logOf3(live: boolean): Promise<{ logDir: string; p: Producer | null }> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  for (let i = 0; i < 3; i++) p.append(`rec-${i}`);
  await p.flush();
  if (live) return { logDir, p };
  await p.close();
  return { logDir, p: null };
}

/** Removes the directory, then closes the producer (which fails: its segment is gone). */
async function removeDir(logDir: string, p: Producer | null): Promise<void> {
  rmSync(logDir, { recursive: true, force: true });
  if (p !== null) await rejectsWith(p.close(), 'ERR_LOG_CORRUPT');
}

async function failsNamingDir(run: Promise<unknown>, logDir: string, what: string): Promise<void> {
  const r = await guarded(run.then((v) => ({ resolved: v }), (e: unknown) => e as { code?: string; message: string }));
  assert.is.not(r, 'stuck', `${what}: still waiting 20 s after the directory was removed`);
  assert.is((r as { code?: string }).code, 'ERR_IO', `${what}: ${JSON.stringify(r)}`);
  assert.ok((r as Error).message.includes(logDir), (r as Error).message);
}

const cases: Array<[string, () => Style, Partial<ConsumerOptions>]> = [
  ['clientTx', () => ConsumerStyle.clientTx('a'), {}],
  ['globalTx', () => ConsumerStyle.globalTx(), {}],
  ['nonTx durable', () => ConsumerStyle.nonTx(Whence.oldest()), { visibility: 'durable' }],
  ['nonTx written', () => ConsumerStyle.nonTx(Whence.oldest()), {}],
];

for (const [name, style, extra] of cases) {
  for (const live of [true, false]) {
    const where = live ? "in the producer's process" : 'tailing the files';
    test(`${name}, ${where}: blockingProcess(null) rejects ERR_IO naming the directory`, async () => {
      const { logDir, p } = await logOf3(live);
      const c = await Consumer.open({ logDir, style: style(), ...extra });
      let n = 0;
      const run = c.blockingProcess(null, () => { n++; return 'commit'; });
      run.catch(() => undefined);
      await waitFor(() => n === 3, 'the 3 records');
      await removeDir(logDir, p);
      await failsNamingDir(run, logDir, 'blockingProcess');
      await c.close().catch(() => undefined); // its cursor went with the directory
    });

    test(`${name}, ${where}: for await and tail() reject ERR_IO naming the directory`, async () => {
      for (const loop of ['for await', 'tail()']) {
        const { logDir, p } = await logOf3(live);
        const c = await Consumer.open({ logDir, style: style(), ...extra });
        let n = 0;
        const run = (async () => {
          for await (const _m of loop === 'tail()' ? c.tail() : c) n++;
        })();
        run.catch(() => undefined);
        await waitFor(() => n === 3, 'the 3 records');
        await removeDir(logDir, p);
        await failsNamingDir(run, logDir, loop);
        await c.close().catch(() => undefined);
      }
    });
  }
}

test('clientTx with a worker pool, tailing the files and in the producer\'s process: blockingProcess rejects ERR_IO', async () => {
  for (const live of [false, true]) {
    const { logDir, p } = await logOf3(live);
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('pool') });
    const run = c.blockingProcess(null, handler, { workers: 2, timeoutMs: 5_000 });
    run.catch(() => undefined);
    await waitFor(() => c.committedOffset === 3, 'the 3 records committed');
    await removeDir(logDir, p);
    await failsNamingDir(run, logDir, 'the pool call');
    await c.close().catch(() => undefined);
  }
});

test.run();
