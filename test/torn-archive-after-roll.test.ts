/**
 * A torn record holding a whole archived segment file (archived-segment-kit.ts) that is the first frame
 * of the newest segment, after a roll: no frame of that segment precedes it, but the log's frame before
 * it (the previous segment's last, read whole and checked) bounds its time as well, since the writer's
 * timestamps never go back along the log. The archive's frames, stamped before it, prove nothing:
 * recovery cuts the torn tail, verifyLog calls it a torn tail, and a reader in another process sees the
 * end of the valid records there, as for the same record in the middle of a segment
 * (recovery-archived-segment, reader-archived-segment). In the log's first segment (base 0) no frame
 * precedes it at all: the segment's creation time bounds it (recovery creates segment 0, and the writer
 * starts its clock there).
 */
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, verifyLog } from '../dist/index.js';
import { SEGMENT_HEADER_BYTES } from '../src/format/frame.js';
import { encodeDurableHint } from '../src/storage/durable-hint.js';
import { archivedSegment, newestSegment, tornTailCarrying } from './archived-segment-kit.js';
import { listing, suite, tempDir } from './kit.js';

const test = suite('torn-archive-after-roll');

async function readAll(logDir: string): Promise<string> {
  try {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    try {
      return `ok ${JSON.stringify([...c.iter()].map((m) => m.offset))}`;
    } finally {
      await c.close();
    }
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`;
  }
}

async function open(dir: string): Promise<string> {
  try {
    const p = await Producer.open({ logDir: dir });
    const r = `ok nextOffset=${p.nextOffset} cut=${p.recovery.truncated !== null}`;
    await p.close();
    return r;
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`;
  }
}

test('the torn first frame of a segment holding an archive is a torn tail for readers, verifyLog and recovery', async () => {
  const dir = await tornTailCarrying(await archivedSegment(), true);
  const before = listing(dir);
  assert.is(await readAll(dir), 'ok [0]', 'a reader in another process');
  assert.equal(listing(dir), before, 'the reader changed nothing');
  const v = await verifyLog(dir);
  const seen = JSON.stringify(v.findings.map((x) => `${x.severity} ${x.kind}`));
  assert.ok(v.ok, `verifyLog finds no damage: ${seen}`);
  assert.ok(v.findings.some((x) => x.kind === 'torn-tail'), `verifyLog reports a torn tail: ${seen}`);
  assert.is(await open(dir), 'ok nextOffset=1 cut=true');
  assert.is(await open(dir), 'ok nextOffset=1 cut=false', 'a second open finds the log as the first left it');
});

test('the torn first record of a log holding an archive: the first segment\'s creation time bounds its frames', async () => {
  const dir = await tornTailCarrying(await archivedSegment(), false, false);
  const before = listing(dir);
  assert.is(await readAll(dir), 'ok []', 'a reader in another process');
  assert.equal(listing(dir), before, 'the reader changed nothing');
  const v = await verifyLog(dir);
  const seen = JSON.stringify(v.findings.map((x) => `${x.severity} ${x.kind}`));
  assert.ok(v.ok && v.findings.some((x) => x.kind === 'torn-tail'), `verifyLog reports a torn tail, no damage: ${seen}`);
  assert.is(await open(dir), 'ok nextOffset=0 cut=true');
});

for (const roll of [true, false]) {
  test(`damaged durable bytes in the first frame of ${roll ? 'a rolled segment' : 'segment 0'}, with frames of this log written after their fsync: still damage`, async () => {
    const dir = tempDir();
    const p = await Producer.open({ logDir: dir, syncPolicy: SyncPolicy.always() });
    if (roll) {
      p.append('first');
      await p.flush();
      await p.roll();
    }
    for (let i = 0; i < 3; i++) { p.append(`record ${i}`); await p.flush(); }
    await p.close();
    const seg = newestSegment(dir);
    const bytes = readFileSync(seg);
    bytes[SEGMENT_HEADER_BYTES + 45] ^= 0xff; // a payload byte of the segment's first record, fsynced before the next ones were written
    writeFileSync(seg, bytes);
    writeFileSync(join(dir, 'durable.offset'), encodeDurableHint(roll ? 1 : 0));
    assert.match(await readAll(dir), /^ERR_LOG_CORRUPT: .*a valid frame follows/, 'a reader in another process');
    assert.not.ok((await verifyLog(dir)).ok, 'verifyLog finds damage');
    assert.match(await open(dir), /^ERR_LOG_CORRUPT: .*had been made durable/, 'recovery refuses');
  });
}

test.run();
