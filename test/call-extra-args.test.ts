/**
 * consumer.lag(), producer.stats() and remote.append(data, opts) refuse an argument they do not take,
 * as the factories and admin calls do: `consumer.lag({ durable: true })`, `producer.stats({ reset: true })`
 * or `remote.append(data, opts, { signal })` read as if the argument did something, and it was dropped
 * without a word. Now each is ERR_INVALID_OPTION naming `options`, nothing appended.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { suite, tempDir, readRecords, rejectsWith, throwsWith } from './kit.js';
import { namesOption } from './bad-input-kit.js';

const test = suite('call-extra-args');
const loose = <T>(f: T): ((...a: unknown[]) => unknown) => f as never;

test('producer.stats(x) and consumer.lag(x): ERR_INVALID_OPTION naming options; the bare calls still answer', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  p.append('r0');
  await p.flush();
  namesOption(throwsWith(() => loose(p.stats).call(p, { reset: true }), 'ERR_INVALID_OPTION'), 'options', 'stats({ reset: true })');
  namesOption(throwsWith(() => loose(p.stats).call(p, undefined), 'ERR_INVALID_OPTION'), 'options', 'stats(undefined)');
  assert.is(p.stats().records, 1);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  namesOption(throwsWith(() => loose(c.lag).call(c, { durable: true }), 'ERR_INVALID_OPTION'), 'options', 'lag({ durable: true })');
  assert.is(c.lag().records, 1);
  await c.close();
  await p.close();
});

test('remote.append(data, opts, x): ERR_INVALID_OPTION naming options, nothing appended; the handle goes on', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const remote = await Producer.connect({ logDir });
  const append = loose(remote.append);
  namesOption(await rejectsWith(append.call(remote, 'x', {}, { signal: AbortSignal.timeout(10) }) as Promise<unknown>, 'ERR_INVALID_OPTION'), 'options', 'append(data, {}, { signal })');
  namesOption(await rejectsWith(append.call(remote, 'x', undefined, undefined) as Promise<unknown>, 'ERR_INVALID_OPTION'), 'options', 'append(data, undefined, undefined)');
  await remote.append('r0', { key: 'k' });
  await remote.append('r1');
  await remote.close();
  await p.close();
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['r0', 'r1']);
});

test.run();
