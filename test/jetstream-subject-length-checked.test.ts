/**
 * jetstream() refuses a subject longer than 2,048 bytes with ERR_INVALID_OPTION naming subject, at
 * the call. A nats-server refuses a protocol line past its max_control_line (4,096 bytes by default),
 * and the line that publishes a record or delivers one carries the subject: with a subject of some
 * 4,000 bytes or more, Producer.open created the stream and its buckets, then the first publish broke
 * the connection (the producer failed with ERR_LOG_LOCKED, its lease "lost", or ERR_IO), and a
 * consumer's reads timed out. With a server: a refused subject creates no stream.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, throwsWith } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream subject length checked');

test('a subject past 2,048 bytes is ERR_INVALID_OPTION naming subject; 2,048 bytes are taken', () => {
  for (const len of [2_049, 4_000, 5_000, 100_000]) {
    const err = throwsWith(() => jetstream({ servers: 'nats://127.0.0.1:4222', stream: 'orders', subject: 's'.repeat(len) }), 'ERR_INVALID_OPTION');
    assert.is((err as Error & { details?: { option?: string } }).details?.option, 'subject', err.message);
  }
  const long = Array.from({ length: 128 }, () => 'a'.repeat(15)).join('.'); // 2,047 bytes
  jetstream({ servers: 'nats://127.0.0.1:4222', stream: 'orders', subject: `${long}b` }); // 2,048 bytes
});

let server: NatsServer | null = null;
test.after(stopAllNats);

test('with a server: the refused subject creates no stream, and a long subject that is taken works', async () => {
  server = await startNats();
  const subject = Array.from({ length: 128 }, () => 'a'.repeat(15)).join('.');
  const p = await Producer.open({ backend: jetstream({ servers: server.url, stream: 'LONGSUBJ', subject, timeoutMs: 2_000 }) });
  p.append('x');
  await p.flush({ signal: AbortSignal.timeout(30_000) });
  await p.close();
  throwsWith(() => jetstream({ servers: server!.url, stream: 'TOOLONG', subject: 's'.repeat(5_000) }), 'ERR_INVALID_OPTION');
  const nc = await connect({ servers: server.url });
  try {
    const names: string[] = [];
    for await (const s of (await jetstreamManager(nc)).streams.names()) names.push(s);
    assert.ok(!names.some((n) => n.includes('TOOLONG')), names.join(','));
    assert.ok(names.includes('LONGSUBJ'), names.join(','));
  } finally {
    await nc.close();
  }
});

runOrSkip(test, 'jetstream subject length checked');
