/**
 * The JetStream producer checks its arguments as a local producer does: writable() refuses a non-object
 * and a `bytes` that is not a whole number from 0 to maxRecordBytes (ERR_INVALID_OPTION) and ends with
 * ERR_ABORTED when its signal aborts while it waits for room; Producer.open refuses a malformed
 * SyncPolicy (a negative or NaN interval, a negative byte count) with ERR_INVALID_OPTION.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir } from './kit.js';
import { outcome, runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream producer args');
let server: NatsServer;

test.before(async () => { server = await startNats(); });
test.after(stopAllNats);


test('writable() with bad arguments: ERR_INVALID_OPTION, as locally', async () => {
  const local = await Producer.open({ logDir: tempDir(), maxRecordBytes: 1000 });
  const backend = jetstream({ servers: server.url, stream: `rlargs-${process.pid}-w`, leaseMs: 5_000, timeoutMs: 1_000 });
  const js = await Producer.open({ backend, maxRecordBytes: 1000 });
  try {
    for (const arg of [null, 5, { bytes: -1 }, { bytes: Number.NaN }, { bytes: '10' }, { bytes: 1.5 }, { bytes: 1001 }, { signal: 'x' }]) {
      const got = [await outcome(() => local.writable(arg as never)), await outcome(() => js.writable(arg as never))];
      assert.equal(got, ['ERR_INVALID_OPTION', 'ERR_INVALID_OPTION'], JSON.stringify(arg));
    }
    assert.is(await outcome(() => js.writable({ bytes: 1000 })), 'resolved');
    assert.is(await outcome(() => js.writable()), 'resolved');
  } finally {
    await local.close();
    await js.close();
  }
});

test('writable() waiting for room ends with ERR_ABORTED when its signal aborts', async () => {
  // Small queue, long appendTimeoutMs: only the signal ends the wait. The record's acknowledgement
  // needs a network round trip; the checks below run before it can arrive.
  const backend = jetstream({ servers: server.url, stream: `rlargs-${process.pid}-a`, leaseMs: 5_000, timeoutMs: 1_000, maxQueueBytes: 64 * 1024 });
  const p = await Producer.open({ backend, appendTimeoutMs: 60_000 });
  try {
    const big = new Uint8Array(60 * 1024);
    p.append(big); // the queue holds it until the stream acknowledges it
    const pre = new AbortController();
    pre.abort();
    const early = p.writable({ bytes: big.byteLength, signal: pre.signal });
    const ac = new AbortController();
    const waiting = p.writable({ bytes: big.byteLength, signal: ac.signal });
    ac.abort();
    assert.is(await outcome(() => early), 'ERR_ABORTED');
    assert.is(await outcome(() => waiting), 'ERR_ABORTED');
    await p.flush();
    assert.is(await outcome(() => p.writable({ bytes: big.byteLength, signal: new AbortController().signal })), 'resolved');
  } finally {
    await p.close();
  }
});

test('a malformed SyncPolicy: ERR_INVALID_OPTION, as locally', async () => {
  const backend = jetstream({ servers: server.url, stream: `rlargs-${process.pid}-s`, leaseMs: 5_000, timeoutMs: 1_000 });
  for (const policy of [{ kind: 'periodic', intervalMs: -1 }, { kind: 'periodic', intervalMs: Number.NaN }, { kind: 'everyBytes', bytes: -1 }, { kind: 'sometimes' }, 'always']) {
    const open = (o: object) => async (): Promise<void> => { await (await Producer.open({ ...o, syncPolicy: policy } as never)).close(); };
    const got = [await outcome(open({ logDir: tempDir() })), await outcome(open({ backend }))];
    assert.equal(got, ['ERR_INVALID_OPTION', 'ERR_INVALID_OPTION'], JSON.stringify(policy));
  }
});

runOrSkip(test, 'jetstream producer args');
