/**
 * isLogError across two copies of the module in one process: the ESM build (dist/index.js) and the
 * CommonJS build (dist/index.cjs) each define their own LogError class, as an app that both imports
 * and requires the package loads them. `instanceof` sees one class; isLogError must see both.
 */
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import * as esm from '../dist/index.js';
import { suite, tempDir } from './kit.js';

const cjs = createRequire(import.meta.url)('../dist/index.cjs') as typeof esm;
const test = suite('isLogError');

test('the two builds are two copies: their LogError classes differ', () => {
  assert.is.not(esm.LogError, cjs.LogError);
  assert.not.ok(new cjs.LogError('ERR_IO', 'x') instanceof esm.LogError);
});

test('each copy recognises its own LogError and the other copy\'s, both ways', () => {
  const fromEsm = new esm.LogError('ERR_LOG_FULL', 'full');
  const fromCjs = new cjs.LogError('ERR_LOG_FULL', 'full');
  assert.ok(esm.isLogError(fromEsm));
  assert.ok(esm.isLogError(fromCjs));
  assert.ok(cjs.isLogError(fromCjs));
  assert.ok(cjs.isLogError(fromEsm));
});

test('an error the library raises is recognised by the other copy', async () => {
  const logDir = tempDir();
  const raised: unknown[] = [];
  for (const lib of [esm, cjs]) {
    try {
      await lib.Producer.open({ logDir, syncPolicy: lib.SyncPolicy.always(), fileRollSize: -1 });
    } catch (e) {
      raised.push(e);
    }
  }
  assert.is(raised.length, 2);
  const [fromEsm, fromCjs] = raised;
  assert.ok(cjs.isLogError(fromEsm));
  assert.ok(esm.isLogError(fromCjs));
  assert.is((fromCjs as esm.LogError).code, 'ERR_INVALID_OPTION');
});

test('anything else is not a LogError', () => {
  const lookalike = Object.assign(new Error('closed'), { code: 'ERR_LOG_CLOSED', details: {} });
  for (const lib of [esm, cjs]) {
    for (const v of [lookalike, { code: 'ERR_LOG_CLOSED', name: 'LogError' }, new TypeError('x'), null, undefined, 'ERR_IO', 0]) {
      assert.is(lib.isLogError(v), false, `isLogError(${String(v)})`);
    }
  }
});

test.run();
