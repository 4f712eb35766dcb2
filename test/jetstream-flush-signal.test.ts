/**
 * flush({ signal }) on the JetStream producer, as on a local log (README, "flush({ signal })"): a
 * signal aborted already, or aborting while the flush waits for the stream's acknowledgements, ends
 * the call with ERR_ABORTED (the signal's reason as its cause) and leaves no listener on the signal;
 * only the wait ends, and a later flush resolves. Options other than { signal } are
 * ERR_INVALID_OPTION. The signal was ignored: the flush waited for the acknowledgements.
 */
import * as assert from 'uvu/assert';
import { getEventListeners } from 'node:events';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { outcome, runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream flush signal');
let server: NatsServer;

test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

test('a flush waiting for acknowledgements ends with ERR_ABORTED when its signal aborts; the producer goes on', async () => {
  const backend = jetstream({ servers: server.url, stream: `rlflushsig-${process.pid}`, leaseMs: 5_000, timeoutMs: 1_000 });
  const p = await Producer.open({ backend });
  try {
    // The acknowledgement of each record needs a network round trip: the checks below run before it arrives.
    p.append('r0');
    assert.is(await outcome(() => p.flush({ signal: AbortSignal.abort('stop') })), 'ERR_ABORTED');
    p.append('r1');
    const ac = new AbortController();
    const reason = new Error('the caller gave up');
    const waiting = p.flush({ signal: ac.signal });
    ac.abort(reason);
    const err = await waiting.then(() => null, (e: unknown) => e as Error & { code?: string });
    assert.is(err?.code, 'ERR_ABORTED', `got ${String(err)}`);
    assert.is(err?.cause, reason, 'the signal\'s reason is the cause');
    assert.is(await outcome(() => p.flush({ sginal: ac.signal } as never)), 'ERR_INVALID_OPTION');
    const kept = new AbortController();
    p.append('r2');
    await p.flush({ signal: kept.signal });
    assert.is(getEventListeners(kept.signal, 'abort').length, 0, 'no listener left on the signal');
    assert.is(p.stats().acknowledgedOffset, 3);
  } finally {
    await p.close();
  }
});

runOrSkip(test, 'jetstream flush signal');
