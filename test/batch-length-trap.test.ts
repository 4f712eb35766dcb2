/**
 * appendBatch reads its array's length with appends of the same handle refused, as it reads the
 * records: an array whose `length` runs the caller's code (a Proxy's get trap) and appends, appends a
 * batch or calls share() from there gets ERR_INVALID_RECORD for that call. On the owner's handle before
 * share(), such an append went through: the batch then returned the nested record's offset as its
 * first, and the count of offsets lost the nested record, so every later append returned an offset one
 * below where its record is stored and flush() waited for one record too few. A share() from there
 * left the batch outside the shared count of offsets. On every handle the batch that follows stores
 * its records at the offsets it returns.
 */
import * as assert from 'uvu/assert';
import { ErrorCode, Producer, SyncPolicy } from '../dist/index.js';
import { readRecords, suite, tempDir } from './kit.js';

const test = suite('batch-length-trap');

type Handle = Pick<Producer, 'append' | 'appendBatch' | 'flush'>;
const modes: Array<[string, (p: Producer) => Handle]> = [
  ['the owner\'s handle', (p) => p],
  ['a shared owner\'s handle', (p) => { p.share(); return p; }],
  ['an attached handle', (p) => Producer.attach(p.share())],
];

/** The batch ['b0', 'b1'] whose first read of `length` runs `call` and keeps what it throws. */
function trapped(call: () => unknown): { batch: string[]; thrown: () => unknown } {
  let thrown: unknown = 'not called';
  let first = true;
  const batch = new Proxy(['b0', 'b1'], {
    get: (t, k, r): unknown => {
      if (k === 'length' && first) {
        first = false;
        try {
          call();
          thrown = null;
        } catch (e) {
          thrown = e;
        }
      }
      return Reflect.get(t, k, r);
    },
  });
  return { batch, thrown: () => thrown };
}

for (const [what, handle] of modes) {
  for (const [nested, call] of [
    ['an append', (h: Handle) => h.append('nested')],
    ['a batch', (h: Handle) => h.appendBatch(['nested'])],
  ] as const) {
    test(`${what}: ${nested} from the array's length trap is refused; the batch gets the offsets its records are stored at`, async () => {
      const logDir = tempDir();
      const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
      const h = handle(p);
      assert.is(h.append('r0'), 0);
      const { batch, thrown } = trapped(() => call(h));
      const first = h.appendBatch(batch);
      const last = h.append('last');
      await h.flush({ signal: AbortSignal.timeout(10_000) });
      const durable = p.durableOffset;
      await p.close();
      const stored = (await readRecords(logDir)).map((r) => [r.offset, r.text]);
      // Each offset a call returned holds that call's record, and flush() covered the last one.
      assert.equal([[0, stored[0]?.[1]], [first, stored[first]?.[1]], [first + 1, stored[first + 1]?.[1]], [last, stored[last]?.[1]]],
        [[0, 'r0'], [first, 'b0'], [first + 1, 'b1'], [last, 'last']]);
      assert.ok(durable >= stored.length, `flush() covers the last record (durable offset ${durable}, ${stored.length} records)`);
      assert.is((thrown() as { code?: string } | null)?.code, ErrorCode.INVALID_RECORD, `${nested} from the trap is refused`);
      assert.equal(stored, [[0, 'r0'], [1, 'b0'], [2, 'b1'], [3, 'last']]);
    });
  }
}

test('the owner\'s handle: share() from the array\'s length trap is refused; attached appends follow the batch', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  const { batch, thrown } = trapped(() => p.share());
  assert.is(p.appendBatch(batch), 0);
  const attached = Producer.attach(p.share());
  const offsets = [attached.append('a2'), p.append('o3')];
  await attached.close();
  await p.close();
  const stored = (await readRecords(logDir)).map((r) => [r.offset, r.text]);
  assert.equal(offsets.map((o) => [o, stored[o]?.[1]]), [[offsets[0], 'a2'], [offsets[1], 'o3']], 'each offset returned holds its record');
  assert.equal(stored, [[0, 'b0'], [1, 'b1'], [2, 'a2'], [3, 'o3']]);
  assert.is((thrown() as { code?: string } | null)?.code, ErrorCode.INVALID_RECORD, 'share() from the trap is refused');
});

test.run();
