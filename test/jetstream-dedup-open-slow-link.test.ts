/**
 * A JetStream producer open rebuilding a large dedup window succeeds on a slow link: its read of
 * the dedup keys was bounded by one timeoutMs for the whole window, so a window of 65,536 records
 * (66 fetches of 1,000, each one round trip) over a link of 40 ms failed every try, and the open
 * with ERR_IO after 2 x timeoutMs, though the server answered every request. The bound now moves
 * with progress: only a read that gets nothing for timeoutMs ends. Skipped with a printed reason
 * without nats-server.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream dedup open slow link');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

const RECORDS = 65_536;
const TIMEOUT_MS = 1_000;

test('a producer open reads a 65,536-record dedup window over a slow link, each request answered well within timeoutMs', async () => {
  const stream = `dk-slow-${process.pid}`;
  const window = { records: RECORDS };
  const p = await Producer.open({ backend: jetstream({ servers: server.url, stream }), dedupWindow: window });
  for (let i = 0; i < RECORDS; i++) {
    p.append(`r${i}`, { dedupKey: `k${i}` });
    if (i % 4096 === 4095) await p.flush();
  }
  await p.close();
  const proxy = await proxyTo(server.port);
  try {
    proxy.delay(40); // each request 40 ms longer: far below timeoutMs
    const opened = Producer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: TIMEOUT_MS }), dedupWindow: window })
      .then(async (q) => {
        // The window was rebuilt whole: the oldest key of it is still a duplicate.
        const again = q.append('again', { dedupKey: 'k0' });
        await q.close();
        return `opened, k0 at ${again}`;
      }, (e: { code?: string; message?: string }) => `${e.code ?? ''} ${e.message ?? String(e)}`);
    assert.is(await within(opened, 60_000, 'Producer.open'), 'opened, k0 at 0');
  } finally {
    proxy.delay(0);
    await proxy.close();
  }
});

runOrSkip(test, 'jetstream dedup open slow link');
