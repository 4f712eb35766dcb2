/**
 * An open whose connection is cut during the NATS handshake (accepted, then closed or reset before
 * the server's INFO arrived) rides it out as a transient failure (docs/jetstream.md: opens try
 * connecting again within 2 x timeoutMs of the first failure), while a refused connection (nothing
 * listening), a server that is not NATS and an authorization refusal still fail at once. The cut
 * failed Producer.open and Consumer.open at once with ERR_IO "error connecting - node provided an
 * undefined error" (nats.js's error for a socket closed with no error). Skipped with a printed
 * reason without nats-server.
 */
import { createServer, type Server, type Socket } from 'node:net';
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, Whence, type LogBackend } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { coded, freePort, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { tcpProxy } from './tcp-proxy.js';

const test = suite('jetstream open rides out a handshake cut');
let server: NatsServer;
const fakes: Server[] = [];
test.before(async () => { server = await startNats(); });
test.after(async () => {
  await Promise.all(fakes.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  await stopAllNats();
});

const TIMEOUT_MS = 500;
/** An open's bound: 2 x timeoutMs of tries, one more try (a connect's timeoutMs), slack. */
const BOUND_MS = 6 * TIMEOUT_MS + 2_000;

/** A TCP server on a free port that does `onConnection` with each connection; closed by the after hook. */
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

/** How `open` failed, within the bound: its code, message and the time it took (ms). */
async function failure(open: Open, servers: string, what: string): Promise<{ code: string; message: string; ms: number }> {
  const t0 = performance.now();
  try {
    const h = await within(open(jetstream({ servers, stream: `hs-${process.pid}`, timeoutMs: TIMEOUT_MS })), BOUND_MS, what);
    await h.close();
  } catch (e) {
    return { code: coded(e, what), message: (e as Error).message, ms: performance.now() - t0 };
  }
  throw new Error(`${what} opened`);
}

for (const [name, open] of opens) {
  test(`${name}: a connection cut during the handshake is connected again`, async () => {
    const proxy = await tcpProxy(server.port);
    try {
      proxy.arm({ direction: 'down', afterBytes: 68, action: 'cut' }); // within the server's INFO
      const h = await within(open(jetstream({ servers: proxy.url, stream: `hs-cut-${process.pid}`, timeoutMs: TIMEOUT_MS })), BOUND_MS, name);
      assert.ok(proxy.fired() && proxy.cuts() >= 1, 'the handshake was cut');
      await h.close();
    } finally {
      await proxy.close();
    }
  });

  test(`${name}: a server that always drops the handshake fails with ERR_IO after 2 x timeoutMs`, async () => {
    for (const [how, drop] of [['closed', (c: Socket) => c.destroy()], ['reset', (c: Socket) => c.resetAndDestroy()]] as const) {
      const f = await failure(open, await fakeServer(drop), `${name} (${how})`);
      assert.is(f.code, 'ERR_IO');
      assert.ok(f.ms >= 2 * TIMEOUT_MS - 50, `${how}: tried again for 2 x timeoutMs, not failed at once (${Math.round(f.ms)} ms)`);
      assert.match(f.message, /2 x timeoutMs/);
    }
  });

  test(`${name}: a refused connection, a server that is not NATS and an authorization refusal fail at once`, async () => {
    const refused = `nats://127.0.0.1:${await freePort()}`;
    const notNats = await fakeServer((c) => { c.end('HTTP/1.1 400 Bad Request\r\n\r\n'); });
    const auth = await fakeServer((c) => {
      c.write('INFO {"server_id":"fake","version":"2.10.0","max_payload":1048576,"auth_required":true}\r\n');
      c.once('data', () => c.end("-ERR 'Authorization Violation'\r\n"));
    });
    for (const [what, url, says] of [['refused', refused, /connection refused/], ['not NATS', notNats, /unexpected response/], ['auth', auth, /Authorization Violation/]] as const) {
      const f = await failure(open, url, `${name} (${what})`);
      assert.is(f.code, 'ERR_IO', what);
      assert.match(f.message, says, what);
      assert.ok(f.ms < TIMEOUT_MS, `${what}: failed at once (${Math.round(f.ms)} ms)`);
    }
  });
}

runOrSkip(test, 'jetstream open rides out a handshake cut');
