/**
 * The owner's 5 s timers of a funnel connection (no HELLO, replies left unread) judge the client, not
 * the owner's own stalls: after the owner's event loop was busy for more than 5 s (its own work, or
 * a funnel batch waiting for ring room up to appendTimeoutMs), a HELLO that waited in the kernel is
 * read and greeted, and a client that reads its replies promptly keeps its connection.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { Child } from './child.js';
import { errorCodeIn, helloFrame, rawClient } from './funnel-kit.js';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('funnel-busy-owner');

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* the owner's event loop is busy */ }
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
  const child = Child.fork('funnel-refused-client.mjs', [JSON.stringify({ dir: logDir, batches: 8 })], { execArgv: [] });
  await child.next('sent');
  // Replies the owner made and could not hand to the kernel yet (the client reads them as they come).
  await waitFor(() => [...conns].some((c) => c.socket.writableLength > 0), 'replies queued in the owner');
  busy(5_500);
  const done = await child.next<{ type: string; codes: Record<string, number> }>('done', 60_000);
  await child.kill();
  await p.close();
  assert.equal(Object.keys(done.codes), ['ERR_INVALID_RECORD'], 'every append answered with the owner\'s refusal, none cut off');
});

test.run();
