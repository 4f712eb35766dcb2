/**
 * Appends on JetStream whose options run the caller's code (getters), as on a local log
 * (test/append-getters.test.ts): a getter that closes the producer makes that append throw
 * ERR_LOG_CLOSED, where it used to return an offset for a record queued after close() had settled
 * (never published, flush() refused, the offset a success that was not); a getter that appends
 * through the same producer gets ERR_INVALID_RECORD, where it used to take an offset in the middle
 * of the outer append. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { ErrorCode, Producer, type AppendOptions } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { messagesOf, suite, throwsWith } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';
import { ConsumerStyle, Whence } from '../dist/index.js';

const test = suite('jetstream append getters');
let server: NatsServer;
let n = 0;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

const backendOf = () => jetstream({ servers: server.url, stream: `getters-${process.pid}-${n++}`, timeoutMs: 2_000 });
const texts = async (backend: ReturnType<typeof backendOf>): Promise<string[]> =>
  (await messagesOf({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) })).map((m) => Buffer.from(m.data).toString());

test('a getter that closes the producer: that append throws ERR_LOG_CLOSED and nothing of it is stored', async () => {
  const backend = backendOf();
  const p = await Producer.open({ backend });
  p.append('before');
  let closing: Promise<void> | null = null;
  const headers = { get h(): string { closing ??= p.close(); return 'v'; } };
  throwsWith(() => p.append('late', { headers }), ErrorCode.LOG_CLOSED);
  await closing;
  assert.equal(await texts(backend), ['before']);
});

test('a getter that appends through the same producer: that inner append throws ERR_INVALID_RECORD, offsets stay dense', async () => {
  const backend = backendOf();
  const p = await Producer.open({ backend });
  let inner: unknown = null;
  const opts: AppendOptions = { get key(): string {
    try { p.append('inner'); } catch (e) { inner = e; }
    return 'k';
  } };
  try {
    assert.is(p.append('a'), 0);
    assert.is(p.append('outer', opts), 1);
    assert.is((inner as { code?: string } | null)?.code, ErrorCode.INVALID_RECORD, `inner append: ${String(inner)}`);
    assert.is(p.append('b'), 2);
    await p.flush();
  } finally {
    await p.close();
  }
  assert.equal(await texts(backend), ['a', 'outer', 'b']);
});

runOrSkip(test, 'jetstream append getters');
