/**
 * A pool handler that throws a LogError whose details hold values no thread can be sent (a function,
 * a symbol): the call rejects with that LogError (its code, message and plain details), the handler
 * ran once on the record, and the records before it are committed. The worker's answer is not lost
 * to a failed copy (which read as a lost worker: the record ran 5 times, then ERR_WORKER_FAILED).
 */
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, LogError } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf } from './kit.js';

const test = suite('pool-error-details');
const handlerFile = fileURLToPath(new URL('./fixtures/uncloneable-details-handler.mjs', import.meta.url));

test('a thrown LogError with details no thread can be sent: the call rejects with it, the handler ran once', async () => {
  const logDir = await logOf(['ok', 'ok', 'uncloneable', 'ok'], POOL_LOG);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('d') });
  try {
    const e = await guarded(c.nonblockingProcess(null, handlerFile, { workers: 1, timeoutMs: 10_000 }).then(() => null, (err: unknown) => err));
    assert.instance(e, LogError);
    const le = e as LogError;
    assert.is(le.code, 'ERR_IO');
    assert.is(le.message, 'the service refused');
    assert.equal(le.details, { file: 'orders.db', offset: 2 }, 'the plain details; the others cannot cross threads');
    assert.is(c.committedOffset, 2, 'the records before it are committed');
    assert.equal(readFileSync(join(logDir, 'ran'), 'utf8'), '0\n1\n2\n', 'the handler ran once on each record up to it');
  } finally {
    await c.close();
  }
});

test.run();
