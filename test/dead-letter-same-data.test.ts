/**
 * Two records of one log at the same offset and timestamp with the same data but another key or
 * other headers are two records: each that fails gets its own dead letter. A wall clock stepped back
 * keeps the writer stamping its newest frame's time (frames never go back in time), so a repair that
 * cuts the log meanwhile has the records appended after it take the cut records' offsets and their
 * timestamps. Records whose data says little (a tombstone, an event whose type is a header) then
 * differ only by key or headers: the dead-letter log's dedup window took the new one for a repeat of
 * the cut one's dead letter, and the consumer completed it with no dead letter of its own.
 */
import * as assert from 'uvu/assert';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, decodeDeadLetter, repairLog, type Message } from '../dist/index.js';
import { useFileClock } from './file-clock.js';
import { suite, tempDir } from './kit.js';
import { framesOf } from './reader-kit.js';

const test = suite('dead-letter-same-data');
const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;
const setClock = useFileClock(T0);

/** Appends 'evt' once per entry, a frame each, with that key or those headers. */
async function append(logDir: string, attrs: ReadonlyArray<{ key?: string; headers?: Record<string, string> }>): Promise<void> {
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  for (const a of attrs) {
    p.append('evt', a);
    await p.flush();
  }
  await p.close();
}

/** Each dead letter as `<offset>:<key>:<headers as JSON>:<timestamp>`. */
async function letters(deadLetterDir: string): Promise<string[]> {
  const d = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...d.iter()].map((m) => {
      const l = decodeDeadLetter(m.data);
      return `${l.offset}:${m.key === null ? '' : Buffer.from(m.key).toString()}:${JSON.stringify(m.headers)}:${l.timestamp - T0}`;
    });
  } finally {
    await d.close();
  }
}

for (const attr of ['key', 'headers'] as const) {
  test(`after a repair under a clock stepped back: a record like a cut one but for its ${attr} gets a dead letter of its own`, async () => {
    setClock(T0);
    const root = tempDir();
    const logDir = join(root, 'log');
    const deadLetterDir = join(root, 'dl');
    const retry = { maxAttempts: 1, deadLetterDir };
    const tag = (m: Message): string => (attr === 'key' ? Buffer.from(m.key!).toString() : m.headers!.type!);
    const failing = (m: Message): 'retry' | 'commit' => (tag(m).endsWith('-5') ? 'retry' : 'commit');
    const of = (t: string): { key?: string; headers?: Record<string, string> } => (attr === 'key' ? { key: t } : { headers: { type: t } });
    await append(logDir, Array.from({ length: 8 }, (_, i) => of(`old-${i}`)));
    const a = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c'), retry });
    assert.equal(await a.nonblockingProcess(null, failing), { committed: 7, skipped: 1, retried: 1, stoppedBy: 'end' });
    await a.close();
    const first = attr === 'key' ? '5:old-5:null:0' : '5::{"type":"old-5"}:0';
    assert.equal(await letters(deadLetterDir), [first]);
    // The wall clock steps back an hour; a byte of record 3's frame goes bad, and repair cuts there.
    setClock(T0 - HOUR);
    const f = framesOf(logDir)[3]!;
    const fd = openSync(f.path, 'r+');
    try {
      writeSync(fd, Buffer.from([0xff]), 0, 1, f.pos + f.h.frameBytes - 12);
    } finally {
      closeSync(fd);
    }
    const r = await repairLog(logDir, { backupDir: join(root, 'backup') });
    assert.is(r.cut?.offset, 3);
    await append(logDir, Array.from({ length: 5 }, (_, i) => of(`new-${i + 3}`)));
    const b = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c'), retry });
    assert.equal(await b.nonblockingProcess(null, failing), { committed: 4, skipped: 1, retried: 1, stoppedBy: 'end' });
    await b.close();
    const second = attr === 'key' ? '5:new-5:null:0' : '5::{"type":"new-5"}:0';
    assert.equal(await letters(deadLetterDir), [first, second], 'the new record 5, stamped as the cut one, has its own dead letter');
  });
}

test.run();
