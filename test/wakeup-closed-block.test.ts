/**
 * A consumer that reads durable records (the transactional styles, `visibility: 'durable'`) and waits
 * on its in-process producer's shared memory must not start a wait on that memory once the producer
 * has closed: nobody bumps its counters any more, so the wait would sleep out its whole bound (1 s)
 * while another producer appends. The test closes the producer (and waits until its writer is done)
 * inside the consumer's wait, right after the wait found the producer still publishing.
 */
import * as assert from 'uvu/assert';
// The producer from the build (its writer thread runs from there); it registers where the consumer
// from src/ looks (the process-wide table of producers, keyed by the shared memory's layout).
import { Producer } from '../dist/index.js';
import { Consumer, ConsumerStyle, type Message } from '../src/index.js';
import { LocalSource } from '../src/consumer/local-source.js';
import { Waiter } from '../src/consumer/waiter.js';
import { I32, State, type ControlViews } from '../src/ring/layout.js';
import { suite, tempDir } from './kit.js';

const test = suite('wakeup-closed-block');
/** A failure guard, far past the delays this test tells apart. */
const GUARD_MS = 10_000;

function within(p: Promise<IteratorResult<Message, void>>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => { timer = setTimeout(() => resolve('late'), GUARD_MS); });
  const text = p.then((r) => (r.done === true ? 'done' : Buffer.from(r.value.data).toString()));
  return Promise.race([text, late]).finally(() => clearTimeout(timer));
}

type Hooked = { sharedControl(): ControlViews | null; wait(...args: unknown[]): Promise<void> };

test('a durable consumer whose producer closes as it starts to wait does not wait on the closed block', async () => {
  const logDir = tempDir();
  const p1 = await Producer.open({ logDir });
  p1.append('r0');
  await p1.flush();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('closed-block') });
  const proto = LocalSource.prototype as unknown as Hooked;
  const sharedControl = proto.sharedControl;
  const wait = proto.wait;
  const onShared = Waiter.prototype.onShared;
  let armed = false;
  let closeAtWait = false;
  proto.wait = function (this: Hooked, ...args: unknown[]): Promise<void> {
    armed = closeAtWait;
    closeAtWait = false;
    return wait.apply(this, args);
  };
  proto.sharedControl = function (this: Hooked): ControlViews | null {
    const views = sharedControl.call(this);
    if (armed && views !== null) {
      armed = false;
      // The producer closes now, its writer done, before the wait reads the end counter.
      void p1.close();
      const deadline = Date.now() + GUARD_MS;
      while (Atomics.load(views.i32, I32.STATE) !== State.CLOSED && Date.now() < deadline) Atomics.wait(views.i32, I32.DURABLE_SEQ, Atomics.load(views.i32, I32.DURABLE_SEQ), 20);
    }
    return views;
  };
  const deadWaits: number[] = [];
  Waiter.prototype.onShared = function (this: Waiter, i32: Int32Array, slot: number, seen: number, signal: AbortSignal | undefined): Promise<void> {
    const state = Atomics.load(i32, I32.STATE);
    if (state !== State.RUNNING && state !== State.CLOSING) deadWaits.push(state);
    return onShared.call(this, i32, slot, seen, signal);
  };
  let p2: Producer | null = null;
  try {
    const it = c.tail();
    assert.is(await within(it.next()), 'r0');
    closeAtWait = true;
    const second = it.next(); // commits r0, finds nothing more, waits
    await p1.close();
    p2 = await Producer.open({ logDir });
    p2.append('r1');
    await p2.flush();
    const t0 = Date.now();
    assert.is(await within(second), 'r1');
    console.log(`  r1 delivered ${Date.now() - t0} ms after it was durable`);
    assert.equal(deadWaits, [], 'no wait on the shared memory of a closed producer');
    await it.return();
  } finally {
    proto.sharedControl = sharedControl;
    proto.wait = wait;
    Waiter.prototype.onShared = onShared;
    await c.close();
    await p2?.close();
    await p1.close();
  }
});

test.run();
