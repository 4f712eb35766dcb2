/**
 * consumer.lag() during a worker-pool call counts from the first record the pool has not finished,
 * not from how far the pool has read ahead: with the record at offset 0 held by its handler while
 * the pool handles later records, lag() still counts all the records, on a local log and on
 * JetStream alike; once everything is done, it is 0.
 * The JetStream half is skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir, waitFor } from './kit.js';
import { natsServerBinary, SKIP_REASON, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('pool call lag');
const withNats = natsServerBinary() !== null;
let server: NatsServer | null = null;
test.before(async () => { if (withNats) server = await startNats(); });
test.after(stopAllNats);
const handler = fileURLToPath(new URL('./fixtures/gated-pool-handler.mjs', import.meta.url));
const RECORDS = 1000;

for (const where of ['local', 'jetstream'] as const) {
  test(`${where}: lag() while the pool holds offset 0 and handles later records counts every record`, async () => {
    if (where === 'jetstream' && server === null) {
      process.stdout.write(`# ${SKIP_REASON}\n`);
      return;
    }
    const gateDir = mkdtempSync(join(tmpdir(), 'rl-pool-lag-'));
    const gate = join(gateDir, 'open');
    process.env.RL_TEST_GATE = gate;
    const logDir = where === 'local' ? tempDir() : undefined;
    const backend = logDir === undefined ? jetstream({ servers: server!.url, stream: `pool-lag-${process.pid}` }) : null;
    const syncPolicy = SyncPolicy.never();
    const style = ConsumerStyle.clientTx('pl');
    const p = backend === null ? await Producer.open({ logDir: logDir!, syncPolicy }) : await Producer.open({ backend, syncPolicy });
    const c = backend === null ? await Consumer.open({ logDir: logDir!, style }) : await Consumer.open({ backend, style });
    try {
      for (let i = 0; i < RECORDS; i++) p.append(`r${i}`);
      await p.flush();
      await waitFor(() => c.lag().records === RECORDS, 'lag counts every record before the call');
      const call = c.blockingProcess(null, handler, { workers: 2, batchRecords: 10 });
      call.catch(() => undefined);
      await waitFor(() => existsSync(`${gate}.ahead`), 'the pool handles a record past offset 0');
      assert.is(c.lag().records, RECORDS, `lag() while offset 0 is not done: ${JSON.stringify(c.lag())}`);
      writeFileSync(gate, '');
      await waitFor(() => c.committedOffset === RECORDS, 'every record committed');
      await waitFor(() => c.lag().records === 0, 'lag 0 once every record is done');
      await c.close();
      await within(call, 10_000, 'the call ends at close()');
    } finally {
      await c.close();
      await p.close();
      rmSync(gateDir, { recursive: true, force: true });
      if (logDir !== undefined) rmSync(logDir, { recursive: true, force: true });
    }
  });
}

test.run();
