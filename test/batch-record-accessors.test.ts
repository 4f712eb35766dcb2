/**
 * appendBatch reads a record's `key` and `headers` as append reads its options: by property access,
 * so a key or headers given by a getter of the record's class, or inherited from its prototype, is
 * stored, not dropped unseen. A `dedupKey` a record inherits is refused as an own one is, nothing
 * appended and the directory unchanged.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { digestDir, suite, tempDir, throwsWith } from './kit.js';

const test = suite('batch-record-accessors');

/** A record's key and headers as getters of its class (not own properties). */
class Attributes {
  readonly #customer: string;
  constructor(customer: string) { this.#customer = customer; }
  get key(): string { return this.#customer; }
  get headers(): Record<string, string> { return { type: 'order' }; }
}

/** A batch record of that class, its data an own property. */
class Order extends Attributes {
  constructor(readonly data: string, customer: string) { super(customer); }
}

async function readBack(logDir: string): Promise<Array<{ data: string; key: string | null; headers: unknown }>> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...c.iter()].map((m) => ({ data: Buffer.from(m.data).toString(), key: m.key === null ? null : Buffer.from(m.key).toString(), headers: m.headers }));
  } finally {
    await c.close();
  }
}

test('a key and headers from getters of the record\'s class, or from its prototype, are stored as append stores them', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  const inherited = Object.create({ key: 'proto-key', headers: { from: 'proto' } }, { data: { value: 'inherited', enumerable: true } }) as { data: string };
  try {
    assert.is(p.append('single', new Attributes('c-0')), 0);
    assert.is(p.appendBatch([new Order('first', 'c-1'), new Order('second', 'c-2'), inherited]), 1);
  } finally {
    await p.close();
  }
  assert.equal(await readBack(logDir), [
    { data: 'single', key: 'c-0', headers: { type: 'order' } },
    { data: 'first', key: 'c-1', headers: { type: 'order' } },
    { data: 'second', key: 'c-2', headers: { type: 'order' } },
    { data: 'inherited', key: 'proto-key', headers: { from: 'proto' } },
  ]);
});

test('a dedupKey inherited by a batch record is refused as an own one is: nothing appended, the directory unchanged', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, dedupWindow: { records: 100 } });
  try {
    assert.is(p.append('before'), 0);
    await p.flush();
    const before = digestDir(logDir);
    const keyed = Object.create({ dedupKey: 'k' }, { data: { value: 'x', enumerable: true } }) as { data: string };
    throwsWith(() => p.appendBatch(['a', keyed]), 'ERR_INVALID_RECORD');
    await p.flush();
    assert.is(p.nextOffset, 1);
    assert.is(digestDir(logDir), before);
  } finally {
    await p.close();
  }
});

test.run();
