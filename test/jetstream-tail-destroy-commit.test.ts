/**
 * destroy() while a JetStream tail()'s next() waits for the commit of the record the loop completed:
 * the loop ends (done; with destroy(err), next() rejects with err), as it does locally and as it does
 * when destroy() comes while the loop waits for records. The commit that destroy() cut short is not made: that record comes again to the next
 * owner, as destroy() promises. The iteration used to reject with ERR_LOG_CLOSED from the stopped
 * commit, so a `for await` loop that another task destroyed threw on JetStream only (with the
 * default commit policy, nearly every time). A commit that fails for real still rejects.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, type Message } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { closeAfter, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream tail destroy during commit');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);
const TIMEOUT_MS = 2_000;

/** Records r0..r4 on a stream of their own; the backend to open consumers with. */
async function streamOf5(stream: string): Promise<() => ReturnType<typeof jetstream>> {
  const backendOf = (): ReturnType<typeof jetstream> => jetstream({ servers: server.url, stream, timeoutMs: TIMEOUT_MS });
  const p = await Producer.open({ backend: backendOf(), syncPolicy: SyncPolicy.never() });
  await closeAfter(p, () => { for (let i = 0; i < 5; i++) p.append(`r${i}`); });
  return backendOf;
}

const offsetOf = (r: IteratorResult<Message, void>): number | null => (r.done === true ? null : r.value.offset);

for (const withErr of [false, true]) {
  test(`destroy(${withErr ? 'err' : ''}) while next() waits for the commit of the record before: the loop ${withErr ? 'rejects with err' : 'ends'}, that record comes again`, async () => {
    const backendOf = await streamOf5(`tail-destroy-${withErr ? 'err' : 'plain'}-${process.pid}`);
    const c = await Consumer.open({ backend: backendOf(), style: ConsumerStyle.clientTx('d') });
    const it = c.tail();
    assert.is(offsetOf(await it.next()), 0);
    assert.is(offsetOf(await it.next()), 1); // record 0 committed
    const waiting = it.next(); // completes record 1: its commit is in flight
    const destroyed = c.destroy(withErr ? new Error('stop') : undefined);
    const outcome = await within(waiting.then((r) => (r.done === true ? 'done' : `record ${r.value.offset}`), (e: unknown) => `rejected ${(e as { code?: string }).code ?? String(e)}`), 10_000, 'the waiting next()');
    await destroyed;
    assert.is(outcome, withErr ? 'rejected Error: stop' : 'done');
    assert.equal(await it.next(), { value: undefined, done: true });
    const again = await Consumer.open({ backend: backendOf(), style: ConsumerStyle.clientTx('d') });
    try {
      const seen: number[] = [];
      await again.nonblockingProcess(null, (m) => (seen.push(m.offset), 'commit'));
      assert.is(seen[0], 1, 'record 0 stays committed; record 1, whose commit destroy() cut, comes again');
      assert.equal(seen, [1, 2, 3, 4]);
    } finally {
      await again.close();
    }
  });
}

runOrSkip(test, 'jetstream tail destroy during commit');
