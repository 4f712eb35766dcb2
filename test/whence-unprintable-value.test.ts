/**
 * Whence.position and Whence.timestamp name the bad value in their error without converting it to a
 * string: an object that cannot be converted (no prototype, a throwing toString or Symbol.toPrimitive)
 * gives ERR_INVALID_OPTION naming whence, never the TypeError the conversion throws.
 */
import * as assert from 'uvu/assert';
import { LogError, Whence } from '../dist/index.js';
import { suite, throwsWith } from './kit.js';

const test = suite('whence-unprintable-value');

test('Whence.position and Whence.timestamp with a value that cannot be made a string: ERR_INVALID_OPTION naming whence', () => {
  const values = [
    Object.create(null) as object,
    { toString(): never { throw new Error('no string'); } },
    { [Symbol.toPrimitive](): never { throw new Error('no primitive'); } },
    Symbol('s'),
  ];
  for (const v of values) {
    for (const make of [Whence.position, Whence.timestamp]) {
      const e = throwsWith(() => make(v as never), 'ERR_INVALID_OPTION');
      assert.ok(e instanceof LogError);
      assert.is((e as LogError).details.option, 'whence', e.message);
    }
  }
});

test.run();
