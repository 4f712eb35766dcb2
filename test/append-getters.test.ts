/**
 * Appends whose options run the caller's code (getters): a batch record whose data a getter resizes
 * between measuring and copying is refused (ERR_INVALID_RECORD) with nothing appended, whether it
 * grew, shrank with a length-tracking view, or shrank below a fixed view; a getter that closes the
 * producer makes that append (and appendBatch) throw ERR_LOG_CLOSED instead of returning an offset
 * for a record no writer will write, also once the producer is shared (where the append holds the
 * append lock the close takes) and for an attached handle's own close(); a getter that calls share()
 * makes that append throw ERR_INVALID_RECORD, and the offsets stay dense; so does a getter that
 * appends through another handle of the same thread (whose lock its thread holds), and the log goes on.
 */
import * as assert from 'uvu/assert';
import { ErrorCode, Producer, SyncPolicy } from '../dist/index.js';
import { readRecords, suite, tempDir, throwsWith } from './kit.js';

const test = suite('append-getters');

type Resizable = ArrayBuffer & { resize(n: number): void };
const resizable = (n: number, max: number): Resizable => new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => Resizable)(n, { maxByteLength: max });

/** A batch record whose headers' getter resizes `rab` to `size` the second time it is read (when the batch is copied). */
function resizingRecord(data: Uint8Array, rab: Resizable, size: number): { data: Uint8Array; headers: Record<string, string> } {
  let reads = 0;
  return { data, headers: { get h(): string { if (++reads === 2) rab.resize(size); return 'v'; } } };
}

const cases: Array<[string, () => Uint8Array & { rab: Resizable }, number]> = [
  ['grows', () => { const rab = resizable(100, 1000); return Object.assign(new Uint8Array(rab), { rab }); }, 400],
  ['shrinks (length-tracking view)', () => { const rab = resizable(100, 1000); return Object.assign(new Uint8Array(rab), { rab }); }, 40],
  ['shrinks below a fixed view', () => { const rab = resizable(100, 1000); return Object.assign(new Uint8Array(rab, 0, 100), { rab }); }, 10],
];

for (const [what, make, size] of cases) {
  test(`appendBatch: data that ${what} while the batch is copied is refused, nothing appended`, async () => {
    const logDir = tempDir();
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), ringBytes: 64 * 1024 });
    try {
      for (let i = 0; i < 70; i++) p.append(Buffer.alloc(1000, 0x53)); // once round the ring: old bytes past the head
      const data = make();
      data.fill(0x41);
      throwsWith(() => p.appendBatch(['first', resizingRecord(data, data.rab, size)]), ErrorCode.INVALID_RECORD);
      assert.is(p.append('after'), 70, 'the refused batch took no offset');
      await p.flush();
    } finally {
      await p.close();
    }
    const texts = (await readRecords(logDir)).map((r) => r.text);
    assert.is(texts.length, 71);
    assert.is(texts[70], 'after');
  });
}

test('a getter that closes the producer: append and appendBatch throw ERR_LOG_CLOSED', async () => {
  for (const batch of [false, true]) {
    const logDir = tempDir();
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
    p.append('before');
    let closing: Promise<void> | null = null;
    const headers = { get h(): string { closing ??= p.close(); return 'v'; } };
    throwsWith(() => (batch ? p.appendBatch([{ data: 'late', headers }]) : p.append('late', { headers })), ErrorCode.LOG_CLOSED);
    await closing;
    assert.equal((await readRecords(logDir)).map((r) => r.text), ['before']);
  }
});

test('a getter that closes a shared producer: ERR_LOG_CLOSED at once, close() resolves', async () => {
  for (const batch of [false, true]) {
    const logDir = tempDir();
    // appendTimeoutMs bounds a close that waited for the lock its own thread holds (ERR_PRODUCER_STALLED after it).
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), appendTimeoutMs: 300 });
    p.share();
    p.append('before');
    let closing: Promise<void> | null = null;
    const headers = { get h(): string { closing ??= p.close(); return 'v'; } };
    throwsWith(() => (batch ? p.appendBatch([{ data: 'late', headers }]) : p.append('late', { headers })), ErrorCode.LOG_CLOSED);
    await closing;
    assert.is(p.error, null);
    assert.equal((await readRecords(logDir)).map((r) => r.text), ['before']);
  }
});

test('an attached handle whose getter closes it: that append throws ERR_LOG_CLOSED, close() covers the records before', async () => {
  for (const batch of [false, true]) {
    const logDir = tempDir();
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
    const a = Producer.attach(p.share()); // on this thread: a worker's handle runs the same code
    assert.is(a.append('a0'), 0);
    let closing: Promise<void> | null = null;
    const headers = { get h(): string { closing ??= a.close(); return 'v'; } };
    throwsWith(() => (batch ? a.appendBatch([{ data: 'late', headers }]) : a.append('late', { headers })), ErrorCode.LOG_CLOSED);
    await closing;
    assert.ok(a.durableOffset >= 1, 'close() resolved with the handle\'s record durable');
    assert.is(p.append('owner'), 1);
    await p.close();
    assert.equal((await readRecords(logDir)).map((r) => r.text), ['a0', 'owner']);
  }
});

test('a getter that calls share(): that append throws ERR_INVALID_RECORD, nothing appended, offsets stay dense', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  assert.is(p.append('a'), 0);
  const headers = { get h(): string { p.share(); return 'v'; } };
  throwsWith(() => p.append('b', { headers }), ErrorCode.INVALID_RECORD);
  throwsWith(() => p.appendBatch([{ data: 'b', headers }]), ErrorCode.INVALID_RECORD);
  const a = Producer.attach(p.share());
  assert.equal([p.append('c'), a.append('d'), p.append('e')], [1, 2, 3]);
  await p.close();
  assert.equal((await readRecords(logDir)).map((r) => `${r.offset}:${r.text}`), ['0:a', '1:c', '2:d', '3:e']);
});

test('a getter that appends through another handle of its thread: ERR_INVALID_RECORD at once, the log goes on', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), appendTimeoutMs: 300 });
  const a = Producer.attach(p.share());
  const headers = { get h(): string { a.append('inner'); return 'v'; } };
  throwsWith(() => p.append('outer', { headers }), ErrorCode.INVALID_RECORD);
  const back = { get h(): string { p.append('inner'); return 'v'; } };
  throwsWith(() => a.append('outer', { headers: back }), ErrorCode.INVALID_RECORD);
  assert.is(p.error, null);
  assert.equal([p.append('x'), a.append('y')], [0, 1]);
  await p.close();
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['x', 'y']);
});

test.run();
