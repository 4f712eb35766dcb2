/**
 * consumer.destroy(err) ends an iteration as it ends a processing call: a `for await` (or tail())
 * loop waiting at the log's end, or whose body called destroy(err), rejects with `err`, where a
 * blocking call in the same spot rejects with it. Before, the loop ended as if the log had been
 * closed (done), so a failure read as a normal end. destroy() without an error ends the loop, as
 * close() does.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Whence, type Message } from '../dist/index.js';
import { logOf, suite, waitFor } from './kit.js';

const test = suite('consumer destroy(err) and iterators');

let ids = 0;
/** Each consumer a cursor of its own, so each starts at record 0. */
const styles = [
  ['clientTx', () => ConsumerStyle.clientTx(`d${ids++}`)],
  ['nonTx', () => ConsumerStyle.nonTx(Whence.oldest())],
] as const;

type Outcome = string;
const settle = (p: Promise<unknown>): Promise<Outcome> => p.then((v) => `resolved ${JSON.stringify(v ?? null)}`, (e: unknown) => (e instanceof Error && e.message === 'stop' ? 'rejected err' : `rejected ${String((e as { code?: string }).code ?? e)}`));

for (const [name, style] of styles) {
  for (const loop of ['for await', 'tail()'] as const) {
    test(`${name}, ${loop} waiting at the end: destroy(err) rejects it with err, as a blocking call`, async () => {
      const logDir = await logOf(3);
      const c = await Consumer.open({ logDir, style: style() });
      const seen: number[] = [];
      const run = settle((async () => {
        for await (const m of loop === 'tail()' ? c.tail() : c) seen.push(m.offset);
      })());
      await waitFor(() => seen.length === 3, 'the 3 records');
      await c.destroy(new Error('stop'));
      assert.is(await run, 'rejected err');

      const d = await Consumer.open({ logDir, style: style() });
      let n = 0;
      const call = settle(d.blockingProcess(null, () => { n++; return 'commit'; }));
      await waitFor(() => n === 3, 'the 3 records');
      await d.destroy(new Error('stop'));
      assert.is(await call, 'rejected err', 'the blocking call in the same spot');
    });
  }

  test(`${name}: destroy(err) in the loop's body rejects the next step with err; destroy() ends the loop`, async () => {
    const logDir = await logOf(3);
    const c = await Consumer.open({ logDir, style: style() });
    let destroyed: Promise<void> | null = null;
    const run = settle((async () => {
      for await (const m of c) if (m.offset === 1) destroyed = c.destroy(new Error('stop'));
    })());
    assert.is(await run, 'rejected err');
    await destroyed;

    const d = await Consumer.open({ logDir, style: style() });
    const seen: number[] = [];
    const plain = settle((async () => {
      for await (const m of d) seen.push((m as Message).offset);
    })());
    await waitFor(() => seen.length === 3, 'the 3 records');
    await d.destroy();
    assert.is(await plain, 'resolved null', 'destroy() without an error ends the loop, as close() does');
  });
}

for (const [name, style] of styles) {
  test(`${name}: iter() whose body called destroy(err) throws err, as nonblockingProcess rejects`, async () => {
    const logDir = await logOf(3);
    const c = await Consumer.open({ logDir, style: style() });
    let thrown: unknown = null;
    let destroyed: Promise<void> | null = null;
    try {
      for (const m of c.iter()) if (m.offset === 1) destroyed = c.destroy(new Error('stop'));
    } catch (e) {
      thrown = e;
    }
    assert.is((thrown as Error | null)?.message, 'stop');
    await destroyed;
    const d = await Consumer.open({ logDir, style: style() });
    const call = settle(d.nonblockingProcess(null, (m) => { if (m.offset === 1) void d.destroy(new Error('stop')); return 'commit'; }));
    assert.is(await call, 'rejected err', 'the nonblocking call in the same spot');
  });
}

test.run();
