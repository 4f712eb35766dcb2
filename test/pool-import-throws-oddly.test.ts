/**
 * A handler module that throws at its import makes a pool call reject with ERR_INVALID_OPTION
 * (`details.option` 'handler', the module named), also when what it throws has no text: an object
 * with no prototype, a revoked proxy, an object whose toString throws. Turning such a value into
 * the message's text threw, and the call rejected with that plain TypeError, no code and no module.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { Consumer, ConsumerStyle, LogError } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf, tempDir } from './kit.js';

const test = suite('pool: a module that throws a value without text at its import');

for (const [what, body] of [
  ['an object with no prototype', 'throw Object.create(null);\nexport default () => "commit";\n'],
  ['a revoked proxy', 'const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); throw proxy;\nexport default () => "commit";\n'],
  ['an object whose toString throws', 'throw { toString() { throw new Error("no text"); } };\nexport default () => "commit";\n'],
] as const) {
  test(`${what}: ERR_INVALID_OPTION naming the module`, async () => {
    const logDir = await logOf(10, POOL_LOG);
    const path = join(tempDir(), 'throws.mjs');
    writeFileSync(path, body);
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('mod') });
    let r: unknown;
    try {
      r = await guarded(c.nonblockingProcess(null, path, { workers: 2 }).then((v) => v, (e: unknown) => e));
    } finally {
      await c.close();
    }
    assert.ok(r instanceof LogError, `a LogError, got ${Object.prototype.toString.call(r)}`);
    assert.is(r.code, 'ERR_INVALID_OPTION');
    assert.is((r.details as { option?: string }).option, 'handler');
    assert.ok(r.message.includes('throws.mjs'), r.message);
    assert.is(c.committedOffset, 0, 'no record was handed out');
  });
}

test.run();
