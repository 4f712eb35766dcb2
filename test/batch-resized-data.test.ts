/**
 * appendBatch measures every record before it reserves ring space and copies them after; a getter of
 * a record's headers runs again while the batch is copied. When that getter resizes or detaches the
 * buffer behind the data of a record without key or headers (a later record of the batch), the batch
 * is refused with ERR_INVALID_RECORD: nothing is published, no offset is used, and the consumer never
 * reads bytes the caller did not give (old ring contents). A single append reads its data's size
 * after its getters ran, so it stores the bytes the data holds then, or refuses a detached buffer.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, ErrorCode, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { suite, tempDir, throwsWith } from './kit.js';

const test = suite('batch-resized-data');

type Resizable = ArrayBuffer & { resize(n: number): void };
const resizable = (n: number, max: number): Resizable => new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => Resizable)(n, { maxByteLength: max });

/** Headers whose getter calls `change` the `nth` time it is read (a batch reads it once to measure, once to copy). */
function changingHeaders(change: () => void, nth: number): Record<string, string> {
  let reads = 0;
  return { get h(): string { if (++reads === nth) change(); return 'v'; } };
}

/** Stored records as offset, byte length and text (latin1, so that any byte shows). */
async function stored(logDir: string): Promise<Array<{ offset: number; len: number; text: string }>> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...c.iter()].map((m) => ({ offset: m.offset, len: m.data.byteLength, text: Buffer.from(m.data).toString('latin1') }));
  } finally {
    await c.close();
  }
}

/** A later record's data (100 bytes of 'A') and what the getter does to it. */
const cases: Array<[string, () => { data: Uint8Array; change: () => void }]> = [
  ['shrinks (length-tracking view)', () => { const rab = resizable(100, 1000); return { data: new Uint8Array(rab), change: () => rab.resize(10) }; }],
  ['shrinks below a fixed view', () => { const rab = resizable(100, 1000); return { data: new Uint8Array(rab, 0, 100), change: () => rab.resize(10) }; }],
  ['grows (length-tracking view)', () => { const rab = resizable(100, 1000); return { data: new Uint8Array(rab), change: () => rab.resize(400) }; }],
  ['is detached (transferred away)', () => { const data = new Uint8Array(100); return { data, change: () => structuredClone(data.buffer, { transfer: [data.buffer] }) }; }],
];

for (const [what, make] of cases) {
  test(`a later record without key or headers whose buffer ${what} while the batch is copied: ERR_INVALID_RECORD, nothing appended`, async () => {
    const logDir = tempDir();
    const p = await Producer.open({ logDir, ringBytes: 64 * 1024, syncPolicy: SyncPolicy.always() });
    try {
      for (let i = 0; i < 40; i++) p.append(Buffer.alloc(2000, 0x53)); // 80 KB through a 64 KiB ring: old bytes past the head
      await p.flush();
      const { data, change } = make();
      data.fill(0x41);
      const err = throwsWith(() => p.appendBatch([{ data: 'r0', headers: changingHeaders(change, 2) }, data]), ErrorCode.INVALID_RECORD);
      assert.match(err.message, /batch record 1's data/);
      assert.is(p.nextOffset, 40, 'the refused batch took no offset');
      assert.is(p.append('after'), 40);
      await p.flush();
    } finally {
      await p.close();
    }
    const got = await stored(logDir);
    assert.is(got.length, 41);
    assert.equal(got.slice(40), [{ offset: 40, len: 5, text: 'after' }]);
  });
}

test('a shared producer refuses the same batch: nothing appended, the next append gets the next offset', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, ringBytes: 64 * 1024, syncPolicy: SyncPolicy.never() });
  p.share();
  try {
    assert.is(p.append('before'), 0);
    const rab = resizable(100, 1000);
    const data = new Uint8Array(rab).fill(0x41);
    throwsWith(() => p.appendBatch([{ data: 'r0', headers: changingHeaders(() => rab.resize(10), 2) }, 'r1', data]), ErrorCode.INVALID_RECORD);
    assert.is(p.append('after'), 1);
  } finally {
    await p.close();
  }
  assert.equal((await stored(logDir)).map((r) => r.text), ['before', 'after']);
});

test('a batch whose getter resizes nothing still stores every record as given', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, ringBytes: 64 * 1024, syncPolicy: SyncPolicy.never() });
  try {
    const data = new Uint8Array(resizable(100, 1000)).fill(0x41);
    assert.is(p.appendBatch([{ data: 'r0', headers: changingHeaders(() => {}, 2) }, data, new Uint8Array(0), 'r3']), 0);
  } finally {
    await p.close();
  }
  assert.equal((await stored(logDir)).map((r) => r.len), [2, 100, 0, 2]);
});

test('append: a headers getter that shrinks the record\'s own data stores the bytes it holds then; one that leaves it unreadable is refused', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, ringBytes: 64 * 1024, syncPolicy: SyncPolicy.never() });
  try {
    for (let i = 0; i < 40; i++) p.append(Buffer.alloc(2000, 0x53)); // old bytes past the head
    const rab = resizable(100, 1000);
    const tracking = new Uint8Array(rab).fill(0x41);
    assert.is(p.append(tracking, { headers: changingHeaders(() => rab.resize(10), 1) }), 40);
    const rab2 = resizable(100, 1000);
    const fixed = new Uint8Array(rab2, 0, 100).fill(0x41);
    throwsWith(() => p.append(fixed, { headers: changingHeaders(() => rab2.resize(10), 1) }), ErrorCode.INVALID_OPTION);
    const gone = new Uint8Array(100).fill(0x41);
    throwsWith(() => p.append(gone, { headers: changingHeaders(() => structuredClone(gone.buffer, { transfer: [gone.buffer] }), 1) }), ErrorCode.INVALID_OPTION);
    assert.is(p.append('after'), 41);
  } finally {
    await p.close();
  }
  assert.equal((await stored(logDir)).slice(40).map((r) => r.text), ['A'.repeat(10), 'after']);
});

test.run();
