/**
 * The factories of ConsumerStyle, Whence and SyncPolicy refuse an argument they do not take, at once:
 * `ConsumerStyle.clientTx('billing', Whence.latest())` (from JavaScript, or past a cast) used to open a
 * new cursor at the oldest record, the whence dropped without a word, and a whole log's history
 * handed to a consumer that asked to start at its end. Now it is ERR_INVALID_OPTION naming the option,
 * before any cursor file is made.
 */
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence, SyncPolicy } from '../dist/index.js';
import { suite, digestDir, listing, logOf, throwsWith } from './kit.js';
import { namesOption } from './bad-input-kit.js';

const test = suite('factory-extra-args');

test('clientTx(id, whence) and globalTx(whence): ERR_INVALID_OPTION naming style, no cursor made', async () => {
  const logDir = await logOf(5);
  const before = [digestDir(logDir), ...listing(logDir)].join('\n');
  const open = (style: () => ConsumerStyle): Promise<Consumer> => Consumer.open({ logDir, style: style() });
  const bad: Array<[string, () => ConsumerStyle]> = [
    ["clientTx('fresh', Whence.latest())", () => (ConsumerStyle.clientTx as (...a: unknown[]) => ConsumerStyle)('fresh', Whence.latest())],
    ["clientTx('fresh', Whence.position(3))", () => (ConsumerStyle.clientTx as (...a: unknown[]) => ConsumerStyle)('fresh', Whence.position(3))],
    ["clientTx('fresh', undefined)", () => (ConsumerStyle.clientTx as (...a: unknown[]) => ConsumerStyle)('fresh', undefined)],
    ['globalTx(Whence.latest())', () => (ConsumerStyle.globalTx as (...a: unknown[]) => ConsumerStyle)(Whence.latest())],
    ["globalTx('billing')", () => (ConsumerStyle.globalTx as (...a: unknown[]) => ConsumerStyle)('billing')],
    ['nonTx(Whence.oldest(), 5)', () => (ConsumerStyle.nonTx as (...a: unknown[]) => ConsumerStyle)(Whence.oldest(), 5)],
  ];
  for (const [what, style] of bad) {
    let err: unknown;
    try {
      const c = await open(style);
      await c.close();
    } catch (e) {
      err = e;
    }
    namesOption(err, 'style', what);
    assert.ok(!existsSync(join(logDir, 'cursors', 'client.fresh.cursor')), `${what}: no cursor file`);
    assert.is([digestDir(logDir), ...listing(logDir)].join('\n'), before, `${what}: the log directory is untouched`);
  }
  // The good forms still open.
  const c = await open(() => ConsumerStyle.clientTx('fresh'));
  await c.close();
});

test('Whence.oldest(x), Whence.latest(x), Whence.position(n, x), Whence.timestamp(ms, x): ERR_INVALID_OPTION naming whence', () => {
  const w = Whence as unknown as Record<string, (...a: unknown[]) => unknown>;
  const bad: Array<[string, () => unknown]> = [
    ['oldest(5)', () => w.oldest!(5)], ['latest(5)', () => w.latest!(5)], ['latest(undefined)', () => w.latest!(undefined)],
    ['position(1, 2)', () => w.position!(1, 2)], ['timestamp(1, 2)', () => w.timestamp!(1, 2)],
  ];
  for (const [what, fn] of bad) namesOption(throwsWith(fn, 'ERR_INVALID_OPTION'), 'whence', `Whence.${what}`);
  assert.equal(Whence.latest(), { kind: 'latest' });
  assert.equal(Whence.position(2), { kind: 'position', offset: 2 });
});

test('SyncPolicy.always(x), never(x), periodic(ms, x), everyBytes(n, x): ERR_INVALID_OPTION naming syncPolicy', () => {
  const s = SyncPolicy as unknown as Record<string, (...a: unknown[]) => unknown>;
  const bad: Array<[string, () => unknown]> = [
    ['always(100)', () => s.always!(100)], ['never(true)', () => s.never!(true)],
    ['periodic(100, 5)', () => s.periodic!(100, 5)], ['everyBytes(4096, 5)', () => s.everyBytes!(4096, 5)],
  ];
  for (const [what, fn] of bad) namesOption(throwsWith(fn, 'ERR_INVALID_OPTION'), 'syncPolicy', `SyncPolicy.${what}`);
  assert.equal(SyncPolicy.always(), { kind: 'always' });
  assert.equal(SyncPolicy.periodic(100), { kind: 'periodic', intervalMs: 100 });
});

test.run();
