/**
 * The admin calls refuse an argument they do not take: `deleteCursor(dir, id, { dryRun: true })` used
 * to delete the cursor, the options bag dropped without a word (deleteCursor takes none), and
 * `resetCursor(dir, id, { to }, { dryRun: true })` to move it. Now each is ERR_INVALID_OPTION naming
 * `options`, the log directory untouched.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, deleteCursor, inspectLog, resetCursor } from '../dist/index.js';
import { suite, digestDir, listing, logOf, rejectsWith } from './kit.js';
import { namesOption } from './bad-input-kit.js';

const test = suite('admin-extra-args');

test('deleteCursor(dir, id, options), resetCursor(dir, id, { to }, options), inspectLog(dir, options): ERR_INVALID_OPTION, nothing changed', async () => {
  const logDir = await logOf(10);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(4, () => 'commit');
  await c.close();
  const before = [digestDir(logDir), ...listing(logDir)].join('\n');
  const loose = <T>(f: T): ((...a: unknown[]) => Promise<unknown>) => f as never;
  const calls: Array<[string, () => Promise<unknown>]> = [
    ["deleteCursor(dir, 'billing', { dryRun: true })", () => loose(deleteCursor)(logDir, 'billing', { dryRun: true })],
    ["deleteCursor(dir, 'billing', undefined)", () => loose(deleteCursor)(logDir, 'billing', undefined)],
    ["resetCursor(dir, 'billing', { to: 'oldest' }, { dryRun: true })", () => loose(resetCursor)(logDir, 'billing', { to: 'oldest' }, { dryRun: true })],
    ['inspectLog(dir, { cursors: false })', () => loose(inspectLog)(logDir, { cursors: false })],
  ];
  for (const [what, call] of calls) {
    namesOption(await rejectsWith(call, 'ERR_INVALID_OPTION'), 'options', what);
    assert.is([digestDir(logDir), ...listing(logDir)].join('\n'), before, `${what}: the log directory is untouched`);
  }
  const info = await inspectLog(logDir);
  assert.equal(info.cursors.map((x) => [x.id, x.committedOffset]), [['billing', 4]], 'the cursor is still there, where it was');
});

test.run();
