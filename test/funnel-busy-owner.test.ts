/**
 * The owner's 5 s timers of a funnel connection (no HELLO, replies left unread) judge the client, not
 * the owner's own stalls: after the owner's event loop was busy for more than 5 s (its own work, or
 * a funnel batch waiting for ring room up to appendTimeoutMs), a HELLO that waited in the kernel is
 * read and greeted, also when that wait ended in ERR_LOG_FULL (the pause that follows holds back
 * appends, not greetings), and a client that reads its replies promptly keeps its connection.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Producer } from '../dist/index.js';
import { Child } from './child.js';
import { errorCodeIn, helloFrame, rawClient } from './funnel-kit.js';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('funnel-busy-owner');

/**
 * The owner's event loop held for `ms`, as a long synchronous job of its own would hold it: the thread
 * blocks in Atomics.wait, so no event of the loop runs meanwhile, without taking a core from the files
 * that run beside this one.
 */
function busy(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

type Conns = { p: { funnel: { connections: Set<{ socket: { writableLength: number } }> } } };

test('a HELLO sent at once is greeted after the owner was busy 5.5 s', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const conns = (p as unknown as Conns).p.funnel.connections;
  const raw = await rawClient(logDir);
  await waitFor(() => conns.size === 1, 'the owner accepted the connection');
  raw.socket.write(helloFrame()); // in the owner's kernel buffer from now on
  busy(5_500);
  await waitFor(() => raw.received().byteLength > 0 || raw.isClosed(), 'an answer to HELLO');
  const code = errorCodeIn(raw.received());
  raw.socket.destroy();
  await p.close();
  assert.is(code, null, 'the client sent its HELLO at once: it is greeted');
});

test('a client that reads every reply promptly keeps its connection after the owner was busy 5.5 s', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const conns = (p as unknown as Conns).p.funnel.connections;
  const child = Child.fork('funnel-refused-client.mjs', [JSON.stringify({ dir: logDir, batches: 2 })], { execArgv: [] });
  await child.next('sent');
  // Replies the owner made and could not hand to the kernel yet (the client reads them as they come).
  await waitFor(() => [...conns].some((c) => c.socket.writableLength > 0), 'replies queued in the owner');
  busy(5_500);
  const done = await child.next<{ type: string; codes: Record<string, number> }>('done', 60_000);
  await child.kill();
  await p.close();
  assert.equal(Object.keys(done.codes), ['ERR_INVALID_RECORD'], 'every append answered with the owner\'s refusal, none cut off');
});

test('a HELLO sent while a batch waits for ring room, which ends in ERR_LOG_FULL, is greeted', async () => {
  const logDir = tempDir();
  // Retention holds the writer back once the log holds 64 KiB: the ring fills, and a batch waits 6 s for room.
  const p = await Producer.open({
    logDir, acceptConnections: true, ringBytes: 64 * 1024, appendTimeoutMs: 6_000,
    fileRollSize: 1024, maxTotalBytes: 64 * 1024, blockingMinimumRetention: 3_600_000,
  });
  const conns = (p as unknown as Conns).p.funnel.connections;
  const filler = await Producer.connect({ logDir });
  // Connected now, its HELLO 1 s later: while the owner's thread waits for ring room.
  const late = Child.fork('funnel-late-hello.mjs', [JSON.stringify({ socket: join(logDir, 'producer.sock'), delayMs: 1_000 })], { execArgv: [] });
  await late.next('connected');
  await waitFor(() => conns.size === 2, 'the owner accepted the second connection');
  const appends = Promise.allSettled(Array.from({ length: 3000 }, (_, i) => filler.append(`full-${i}-${'p'.repeat(90)}`)));
  await late.next('hello');
  const answer = await late.next<{ type: string; frameType: number | null; code: string | null }>('answer', 30_000);
  const refused = (await appends).filter((s) => s.status === 'rejected').length;
  await late.kill();
  await filler.close();
  await p.close();
  assert.ok(refused > 0, 'the batch met a full ring');
  assert.equal({ frameType: answer.frameType, code: answer.code }, { frameType: 2, code: null }, 'the client sent its HELLO within 5 s: it is greeted (HELLO_OK)');
});

test.run();
