/**
 * A pool handler that throws a value whose properties cannot be read (a `code` getter that throws, a
 * "strict" proxy that throws on every read, a revoked proxy): the call rejects with an Error whose
 * message is the value's text (String(value), else its tag, else "[object]"), as for any value that
 * is not an Error. The handler runs once: the throw is the record's answer, not a lost worker.
 */
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf } from './kit.js';

const test = suite('pool-thrown-hostile');
const handlerFile = fileURLToPath(new URL('./fixtures/hostile-throw-handler.mjs', import.meta.url));

for (const [text, message] of [['code-getter', 'custom'], ['strict-proxy', '[object]'], ['revoked', '[object]']] as const) {
  test(`a thrown ${text}: the call rejects with an Error "${message}", the handler ran once, nothing committed`, async () => {
    const logDir = await logOf([text, 'ok'], POOL_LOG);
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('h') });
    try {
      const e = await guarded(c.nonblockingProcess(null, handlerFile, { workers: 1, timeoutMs: 10_000 }).then(() => null, (err: unknown) => err));
      assert.instance(e, Error);
      assert.is((e as Error).message, message);
      assert.is((e as { code?: unknown }).code, undefined);
      assert.is(c.committedOffset, 0);
      assert.equal(readFileSync(join(logDir, 'ran'), 'utf8'), '0\n', 'the handler ran once, on record 0');
    } finally {
      await c.close();
    }
  });
}

test.run();
