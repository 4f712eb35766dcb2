/**
 * An open given several servers: nats.js tries each once, in a shuffled order, and reports only the
 * last one's error. A refused connection (nothing listening) on one server ended Producer.open and
 * Consumer.open at once with ERR_IO "connection refused" whenever it was tried last, even though
 * another server only dropped the handshake (it answers on the next try) or was slow. A refusal is
 * final only when every server failed for good (refused, not NATS, refused the client); while any
 * failed in a way that may pass, the open tries again within 2 x timeoutMs of the first failure.
 * Skipped with a printed reason without nats-server.
 */
import { createServer, type Server, type Socket } from 'node:net';
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, Whence, type LogBackend } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { coded, freePort, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { tcpProxy } from './tcp-proxy.js';

const test = suite('jetstream open with several servers');
let server: NatsServer;
const fakes: Server[] = [];
const held: Socket[] = [];
test.before(async () => { server = await startNats(); });
test.after(async () => {
  for (const c of held) c.destroy();
  await Promise.all(fakes.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  await stopAllNats();
});

const TIMEOUT_MS = 500;
/** An open's bound: 2 x timeoutMs of tries, one more try (a connect's timeoutMs), slack. */
const BOUND_MS = 6 * TIMEOUT_MS + 2_000;
/** Opens per case: nats.js's order is random, so each case is opened enough times to meet both orders (the old code passed all with a chance of 1 in 2^RUNS per case). */
const RUNS = 5;

async function fakeServer(onConnection: (c: Socket) => void): Promise<string> {
  const s = createServer(onConnection);
  fakes.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `nats://127.0.0.1:${(s.address() as { port: number }).port}`;
}

type Open = (backend: LogBackend) => Promise<{ close(): Promise<void> }>;
const opens: Array<[string, Open]> = [
  ['Producer.open', (backend) => Producer.open({ backend })],
  ['Consumer.open (clientTx)', (backend) => Consumer.open({ backend, style: ConsumerStyle.clientTx('c') })],
  ['Consumer.open (nonTx)', (backend) => Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) })],
];

async function failure(open: Open, servers: string[], what: string): Promise<{ code: string; message: string; ms: number }> {
  const t0 = performance.now();
  try {
    const h = await within(open(jetstream({ servers, stream: `ss-${process.pid}`, timeoutMs: TIMEOUT_MS })), BOUND_MS, what);
    await h.close();
  } catch (e) {
    return { code: coded(e, what), message: (e as Error).message, ms: performance.now() - t0 };
  }
  throw new Error(`${what} opened`);
}

for (const [name, open] of opens) {
  test(`${name}: a refused server beside one that cut the handshake: the open connects again`, async () => {
    const refused = `nats://127.0.0.1:${await freePort()}`;
    for (let run = 0; run < RUNS; run++) {
      const proxy = await tcpProxy(server.port);
      try {
        proxy.arm({ direction: 'down', afterBytes: 68, action: 'cut' }); // within the server's INFO, once
        const servers = run % 2 === 0 ? [refused, proxy.url] : [proxy.url, refused];
        const h = await within(open(jetstream({ servers, stream: `ss-cut-${process.pid}`, timeoutMs: TIMEOUT_MS })), BOUND_MS, `${name} run ${run}`);
        assert.ok(proxy.fired() && proxy.cuts() >= 1, 'the handshake was cut');
        await h.close();
      } finally {
        await proxy.close();
      }
    }
  });

  test(`${name}: a refused server beside a slow one fails with ERR_IO after 2 x timeoutMs, not at once`, async () => {
    const refused = `nats://127.0.0.1:${await freePort()}`;
    const slow = await fakeServer((c) => { held.push(c); }); // accepts, never says INFO
    for (let run = 0; run < 2; run++) {
      const f = await failure(open, run === 0 ? [refused, slow] : [slow, refused], `${name} run ${run}`);
      assert.is(f.code, 'ERR_IO');
      assert.ok(f.ms >= 2 * TIMEOUT_MS - 50, `tried again for 2 x timeoutMs, not failed at once (${Math.round(f.ms)} ms): ${f.message}`);
      assert.match(f.message, /2 x timeoutMs/);
    }
  });

  test(`${name}: every server refused or refusing the client: fails at once, naming each`, async () => {
    const refused = `nats://127.0.0.1:${await freePort()}`;
    const refused2 = `nats://127.0.0.1:${await freePort()}`;
    const auth = await fakeServer((c) => {
      c.write('INFO {"server_id":"fake","version":"2.10.0","max_payload":1048576,"auth_required":true}\r\n');
      c.once('data', () => c.end("-ERR 'Authorization Violation'\r\n"));
    });
    for (const servers of [[refused, refused2], [refused, auth]]) {
      const f = await failure(open, servers, `${name} (${servers.join(', ')})`);
      assert.is(f.code, 'ERR_IO');
      assert.ok(f.ms < 2 * TIMEOUT_MS, `failed at once (${Math.round(f.ms)} ms)`);
      for (const s of servers) assert.ok(f.message.includes(s.replace('nats://', '')), `names ${s}: ${f.message}`);
      assert.match(f.message, /connection refused/);
    }
  });
}

runOrSkip(test, 'jetstream open with several servers');
