/**
 * A remote flush while retention holds the owner's writer back (blockingMinimumRetention, a
 * transactional cursor that lags and commits slowly): the owner's flush waits, its bound starting
 * again each time the durable offset moves, and the owner, whose thread is free, tells the client it
 * is alive meanwhile. The flush resolves as the owner's own flush does, also with a connectTimeoutMs
 * far below the wait; it used to end the connection with ERR_IO "did not answer within
 * connectTimeoutMs", the records in doubt and the handle unusable. A flush that retention keeps
 * from moving gets the owner's ERR_LOG_FULL, and the connection goes on.
 */
import * as assert from 'uvu/assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { suite, tempDir } from './kit.js';

const test = suite('funnel-flush-retention');

const APPEND_TIMEOUT_MS = 1_000;
const CONNECT_TIMEOUT_MS = 50;
/** The pace of the slow consumer: each step commits a few records, well within the owner's flush bound. */
const STEP_MS = APPEND_TIMEOUT_MS / 10;

/** An owner that takes connections, whose retention (8 KiB) blocks the writer until a transactional cursor commits. */
function retainingOwner(logDir: string): Promise<Producer> {
  return Producer.open({
    logDir, acceptConnections: true, syncPolicy: SyncPolicy.never(), appendTimeoutMs: APPEND_TIMEOUT_MS,
    fileRollSize: 1024, maxBatchBytes: 1024, maxTotalBytes: 8 * 1024, blockingMinimumRetention: 0,
  });
}

test('a remote flush that waits on a slowly committing cursor resolves, past connectTimeoutMs plus appendTimeoutMs', async () => {
  const logDir = tempDir();
  const owner = await retainingOwner(logDir);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('slow') });
  let remote: Awaited<ReturnType<typeof Producer.connect>> | null = null;
  try {
    remote = await Producer.connect({ logDir, connectTimeoutMs: CONNECT_TIMEOUT_MS });
    const r = remote;
    const offsets = await Promise.all(Array.from({ length: 100 }, (_, i) => r.append(`r${i}-${'p'.repeat(200)}`)));
    assert.is(offsets.length, 100);
    const started = performance.now();
    let outcome: string | null = null;
    const flushed = r.flush().then(() => { outcome = 'ok'; }, (e: { code?: string; message?: string }) => { outcome = `${e.code}: ${e.message}`; });
    // The cursor frees a segment or so at each step: the writer writes a little, the owner's flush goes on waiting.
    while (outcome === null) {
      await c.nonblockingProcess(4, () => 'commit');
      await sleep(STEP_MS);
    }
    await flushed;
    assert.is(outcome, 'ok');
    assert.ok(performance.now() - started > CONNECT_TIMEOUT_MS + APPEND_TIMEOUT_MS, 'the flush waited longer than the client\'s silence bound');
    assert.ok(owner.durableOffset >= 100);
  } finally {
    remote?.destroy();
    await c.close();
    await owner.close();
  }
});

test('a remote flush that retention keeps from moving gets the owner\'s ERR_LOG_FULL, and the connection goes on', async () => {
  const logDir = tempDir();
  const owner = await retainingOwner(logDir);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('stuck') });
  let remote: Awaited<ReturnType<typeof Producer.connect>> | null = null;
  try {
    remote = await Producer.connect({ logDir, connectTimeoutMs: CONNECT_TIMEOUT_MS });
    const r = remote;
    await Promise.all(Array.from({ length: 100 }, (_, i) => r.append(`r${i}-${'p'.repeat(200)}`)));
    const e = await r.flush().then(() => null, (err: { code?: string; message?: string }) => err);
    assert.is(e?.code, 'ERR_LOG_FULL', String(e?.message));
    assert.type(await r.append('after'), 'number');
  } finally {
    remote?.destroy();
    await c.close();
    await owner.close();
  }
});

test.run();
