/**
 * A batch record with a field named `__proto__` (an object from JSON.parse holds one as an own
 * property) is refused by name, as append refuses an option of that name and a batch record any
 * other unknown field: the batch used to be appended with the field dropped unseen, since the copy
 * of the record's options assigned it, which sets a prototype, not a property.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { digestDir, suite, tempDir, throwsWith } from './kit.js';

const test = suite('batch-proto-field');

test('a batch record field named __proto__: ERR_INVALID_RECORD naming it, nothing appended, the directory unchanged', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  try {
    assert.match(throwsWith(() => p.append('x', JSON.parse('{"__proto__":{}}') as object), 'ERR_INVALID_RECORD').message, /"__proto__" is not a record field/);
    assert.is(p.append('before'), 0);
    await p.flush();
    const before = digestDir(logDir);
    for (const record of ['{"data":"x","__proto__":1}', '{"data":"x","key":"k","__proto__":{"headers":{"a":"b"}}}']) {
      const err = throwsWith(() => p.appendBatch(['a', JSON.parse(record) as { data: string }]), 'ERR_INVALID_RECORD');
      assert.match(err.message, /"__proto__" is not a record field/, record);
    }
    await p.flush();
    assert.is(p.nextOffset, 1, 'nothing appended');
    assert.is(digestDir(logDir), before, 'the directory unchanged');
  } finally {
    await p.close();
  }
});

test.run();
