/**
 * appendBatch takes the records its array holds when it is called. A getter of a record's headers
 * that pushes records onto that array, or cuts it short, while the batch is measured must not make the
 * batch hold another number of records than the offsets it hands out: a batch grown by a getter
 * stores the records it was called with, and the next append gets the offset its record is stored
 * at; one cut short is refused (ERR_INVALID_RECORD) with nothing appended, so no offset is taken that
 * no record fills and flush() does not wait for it. On the owner's handle before and after share(),
 * and on an attached handle; an array whose `length` reads differ (a Proxy) too: the handle's flush()
 * waits for the records the batch took, no more and no fewer.
 */
import * as assert from 'uvu/assert';
import { ErrorCode, Producer, SyncPolicy } from '../dist/index.js';
import { readRecords, suite, tempDir, throwsWith } from './kit.js';

const test = suite('batch-array-changed');

type Handle = Pick<Producer, 'append' | 'appendBatch' | 'flush'>;
const modes: Array<[string, (p: Producer) => Handle]> = [
  ['the owner\'s handle', (p) => p],
  ['a shared owner\'s handle', (p) => { p.share(); return p; }],
  ['an attached handle', (p) => Producer.attach(p.share())],
];

for (const [what, handle] of modes) {
  test(`${what}: a getter that pushes records onto the batch's array: the batch is the records it was called with`, async () => {
    const logDir = tempDir();
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
    const h = handle(p);
    const records: Array<string | { data: string; headers: Record<string, string> }> = ['a'];
    records.push({ data: 'b', headers: { get h(): string { if (records.length < 4) records.push('pushed'); return 'v'; } } });
    assert.is(h.appendBatch(records), 0);
    assert.is(h.append('c'), 2, 'the next append gets the offset its record is stored at');
    await h.flush({ signal: AbortSignal.timeout(5000) });
    await p.close();
    assert.equal((await readRecords(logDir)).map((r) => [r.offset, r.text]), [[0, 'a'], [1, 'b'], [2, 'c']]);
  });

  test(`${what}: a getter that cuts the batch's array short: ERR_INVALID_RECORD, nothing appended, flush() resolves`, async () => {
    const logDir = tempDir();
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
    const h = handle(p);
    const records: Array<string | { data: string; headers: Record<string, string> }> = ['a'];
    records.push({ data: 'b', headers: { get h(): string { records.length = 2; return 'v'; } } }, 'c');
    throwsWith(() => h.appendBatch(records), ErrorCode.INVALID_RECORD);
    assert.is(h.append('d'), 0, 'the refused batch took no offset');
    await h.flush({ signal: AbortSignal.timeout(5000) });
    await p.close();
    assert.equal((await readRecords(logDir)).map((r) => [r.offset, r.text]), [[0, 'd']]);
  });

  for (const [how, lengths] of [['shrinks', [3, 1]], ['grows', [1, 3]]] as const) {
    test(`${what}: an array whose length ${how} from one read to the next (a Proxy): flush() covers the batch and resolves`, async () => {
      const logDir = tempDir();
      const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
      const h = handle(p);
      let reads = 0;
      const batch = new Proxy(['a', 'b', 'c'], {
        get: (t, k, r): unknown => (k === 'length' ? lengths[Math.min(reads++, 1)] : Reflect.get(t, k, r)),
      });
      assert.is(h.appendBatch(batch), 0);
      const end = p.nextOffset;
      assert.ok(end === 1 || end === 3, `the batch is the records of one read of its length (next offset ${end})`);
      // The handle's flush waits for its last record: the batch's, as the offsets it took say.
      await h.flush({ signal: AbortSignal.timeout(5000) });
      assert.ok(p.durableOffset >= end, `durable offset ${p.durableOffset} covers the batch (${end} records)`);
      await p.close();
      assert.equal((await readRecords(logDir)).map((r) => r.text), ['a', 'b', 'c'].slice(0, end));
    });
  }
}

test.run();
