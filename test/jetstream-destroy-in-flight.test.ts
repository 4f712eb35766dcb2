/**
 * destroy() of a JetStream producer while publishes are in flight (the server paused, so none is
 * answered): closing the session rejects them, and their rejections went on as failures of the
 * producer (a resync that found the producer done, ERR_LOG_CLOSED; or ERR_IO), so `error` was set
 * after a destroy, which is no failure. Their answers now count for nothing once destroy() began.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { ErrorCode, Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite } from './kit.js';
import { pauseNats, runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream: destroy with publishes in flight');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

test('the server paused with 500 publishes unanswered: destroy() leaves error null', async () => {
  const p = await Producer.open({ backend: jetstream({ servers: server.url, stream: `dif-${process.pid}`, leaseMs: 3_000, timeoutMs: 500 }) });
  await pauseNats(server);
  try {
    for (let i = 0; i < 500; i++) p.append(`in flight ${i}`);
    await new Promise((resolve) => setImmediate(resolve)); // the pump publishes them
    assert.ok(p.stats().inFlight > 0, 'publishes in flight');
    await p.destroy();
    for (let turn = 0; turn < 100 && p.error === null; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.is(p.error, null, String(p.error));
    await rejectsWith(p.flush(), ErrorCode.LOG_CLOSED);
  } finally {
    server.proc.kill('SIGCONT');
  }
});

runOrSkip(test, 'jetstream: destroy with publishes in flight');
