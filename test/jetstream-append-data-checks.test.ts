/**
 * The JetStream producer checks a record's data as a local producer does, before it takes an offset:
 * a Uint8Array whose buffer was transferred away (detached) is refused with ERR_INVALID_OPTION and
 * takes nothing. It threw a plain TypeError from its copy after taking the offset: flush() then never
 * settled (an offset with no record), and the next record could never land. A Uint8Array of another
 * realm (node:vm) is appended, as locally; it was refused. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { runInNewContext } from 'node:vm';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream append: data checks');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

const detachedView = (): Uint8Array => {
  const u = new Uint8Array(4);
  structuredClone(u.buffer, { transfer: [u.buffer] });
  return u;
};

async function texts(backend: ReturnType<typeof jetstream>): Promise<string[]> {
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const out: string[] = [];
  try {
    await c.nonblockingProcess(null, (m) => { out.push(Buffer.from(m.data).toString('hex')); return 'commit'; });
  } finally {
    await c.close();
  }
  return out;
}

test('a detached view is refused with ERR_INVALID_OPTION and takes no offset; flush() settles; the next record lands', async () => {
  const local = await Producer.open({ logDir: tempDir() });
  try {
    assert.throws(() => local.append(detachedView()), (e: { code?: string }) => e.code === 'ERR_INVALID_OPTION');
  } finally {
    await local.close();
  }
  const backend = jetstream({ servers: server.url, stream: 'data-detached', timeoutMs: 1_000 });
  const p = await Producer.open({ backend });
  try {
    assert.throws(() => p.append(detachedView()), (e: { code?: string }) => e.code === 'ERR_INVALID_OPTION');
    assert.is(p.nextOffset, 0, 'no offset taken');
    await within(p.flush(), 5_000, 'flush() after the refusal');
    assert.is(p.append('after'), 0);
    await within(p.flush(), 5_000, 'flush() of the next record');
  } finally {
    // An offset with no record would hold close()'s flush for good: destroyed then, so the file ends.
    await within(p.close(), 10_000, 'close()').catch(async (e: unknown) => { await p.destroy(); throw e; });
  }
  assert.equal(await texts(backend), [Buffer.from('after').toString('hex')]);
});

test('a Uint8Array of another realm is appended, as locally', async () => {
  const local = await Producer.open({ logDir: tempDir() });
  try {
    assert.is(local.append(runInNewContext('new Uint8Array([1, 2, 3])') as Uint8Array), 0);
  } finally {
    await local.close();
  }
  const backend = jetstream({ servers: server.url, stream: 'data-realm', timeoutMs: 2_000 });
  const p = await Producer.open({ backend });
  try {
    assert.is(p.append(runInNewContext('new Uint8Array([1, 2, 3])') as Uint8Array), 0);
    await p.flush();
  } finally {
    await p.close();
  }
  assert.equal(await texts(backend), ['010203']);
});

runOrSkip(test, 'jetstream append: data checks');
