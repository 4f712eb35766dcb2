/**
 * A consumer opened in the producer's process at an offset past the producer's written end
 * (`Whence.latest()` starts at the producer's next offset, records still in its ring included; so may
 * `Whence.position(n)`) skips to that offset. When that producer fails before writing those records
 * (here its segment write fails with EIO), they are lost, and the next producer appends new records
 * at the same offsets, after the consumer opened: a `latest` consumer must deliver them, not pass over
 * them without a word because it was still aiming at an offset that the lost records had taken. (A
 * `position(n)` consumer asked for an offset, and starts at the record stored there now.)
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type Message } from '../dist/index.js';
import { clearFaults, setFaults } from './faults.js';
import { suite, tempDir } from './kit.js';

const test = suite('latest-past-lost-records');

const text = (m: Message): string => Buffer.from(m.data).toString();

/** A producer whose first segment write fails, holding `n` records it never writes; a consumer opened at `whence` meanwhile. */
async function failedProducer(logDir: string, n: number, open: (p: Producer) => Promise<Consumer>): Promise<Consumer> {
  setFaults({ rules: [{ op: 'writev', path: '\\.seg$', thread: 'writer', nth: 1, effect: { errno: 'EIO', delayMs: 300 } }] });
  let c: Consumer;
  try {
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
    for (let i = 0; i < n; i++) p.append(`lost-${i}`);
    c = await open(p);
    await p.flush().then(() => assert.unreachable('the flush fails'), () => undefined);
    await p.destroy().catch(() => undefined);
  } finally {
    clearFaults();
  }
  return c;
}

for (const visibility of ['written', 'durable'] as const) {
  test(`${visibility}: Whence.latest() past records a failed producer never wrote, then a new producer in the process`, async () => {
    const logDir = tempDir();
    const c = await failedProducer(logDir, 10, async (p) => {
      const consumer = await Consumer.open({ logDir, visibility, style: ConsumerStyle.nonTx(Whence.latest()) });
      assert.is(consumer.position, 10, 'latest is the producer\'s next offset');
      assert.is(p.writtenOffset, 0);
      return consumer;
    });
    const p2 = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
    try {
      assert.is(p2.nextOffset, 0, 'the lost records are gone');
      for (let i = 0; i < 12; i++) p2.append(`new-${i}`);
      await p2.flush();
      const got = [...c.iter()].map(text);
      assert.equal(got, Array.from({ length: 12 }, (_, i) => `new-${i}`), 'every record appended after the open');
    } finally {
      await c.close();
      await p2.close();
    }
  });
}

test('Whence.latest() past the written end; the consumer reads the files before the next producer opens', async () => {
  const logDir = tempDir();
  const c = await failedProducer(logDir, 8, () => Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.latest()) }));
  assert.equal([...c.iter()].map(text), [], 'nothing yet');
  const p2 = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  try {
    for (let i = 0; i < 3; i++) p2.append(`new-${i}`);
    await p2.flush();
    assert.equal([...c.iter()].map((m) => `${m.offset}:${text(m)}`), ['0:new-0', '1:new-1', '2:new-2']);
  } finally {
    await c.close();
    await p2.close();
  }
});

// Unlike latest, a position names an offset: past the lost records, the records now at that offset on.
test('Whence.position(n) past the written end; the consumer reads the files before the next producer opens', async () => {
  const logDir = tempDir();
  const c = await failedProducer(logDir, 8, () => Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(5)) }));
  assert.equal([...c.iter()].map(text), [], 'nothing yet');
  const p2 = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  try {
    for (let i = 0; i < 8; i++) p2.append(`new-${i}`);
    await p2.flush();
    const got = [...c.iter()].map((m) => `${m.offset}:${text(m)}`);
    assert.equal(got, ['5:new-5', '6:new-6', '7:new-7'], 'a position names an offset: the records there now');
  } finally {
    await c.close();
    await p2.close();
  }
});

test.run();
