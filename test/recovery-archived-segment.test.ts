/**
 * A torn tail whose unfinished record holds a whole segment file of another log (an archive: its
 * header and its frames, each frame stored at or past the position it had in its own file, so its
 * durable position lies at or before its own start here) is cut like any torn tail: a frame stamped
 * before the last valid frame of this segment was not written by this segment's writer after it
 * (the writer's timestamps never go back), so it proves nothing about the torn bytes; verifyLog
 * agrees (a torn tail, not damage). A frame of this log written after an fsync that covered damaged
 * bytes still proves the damage.
 */
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy, verifyLog } from '../dist/index.js';
import { archivedSegment, onlySegment, tornTailCarrying } from './archived-segment-kit.js';
import { SEGMENT_HEADER_BYTES, decodeFrameHeader } from '../src/format/frame.js';
import { encodeDurableHint } from '../src/storage/durable-hint.js';
import { suite, tempDir } from './kit.js';

const test = suite('recovery-archived-segment');

async function open(dir: string): Promise<string> {
  try {
    const p = await Producer.open({ logDir: dir });
    const r = `ok nextOffset=${p.nextOffset} truncated=${JSON.stringify(p.recovery.truncated)}`;
    await p.close();
    return r;
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`;
  }
}

test('a torn record holding a whole archived segment file is cut, not taken for damage', async () => {
  const dir = await tornTailCarrying(await archivedSegment());
  const v = await verifyLog(dir);
  const seen = JSON.stringify(v.findings.map((x) => `${x.severity} ${x.kind}`));
  assert.ok(v.ok, `verifyLog finds no damage: ${seen}`);
  assert.ok(v.findings.some((x) => x.kind === 'torn-tail'), `verifyLog reports a torn tail: ${seen}`);
  const r = await open(dir);
  assert.ok(r.startsWith('ok nextOffset=1'), r);
  assert.equal(await open(dir), 'ok nextOffset=1 truncated=null', 'a second open finds the log as the first left it');
});

test('damaged durable bytes followed by a frame written after their fsync: still ERR_LOG_CORRUPT', async () => {
  const dir = tempDir();
  const p = await Producer.open({ logDir: dir, syncPolicy: SyncPolicy.always() });
  for (let i = 0; i < 4; i++) { p.append(`record ${i}`); await p.flush(); }
  await p.close();
  const seg = onlySegment(dir);
  const bytes = readFileSync(seg);
  const second = SEGMENT_HEADER_BYTES + (decodeFrameHeader(bytes, SEGMENT_HEADER_BYTES) as { frameBytes: number }).frameBytes;
  bytes[second + 45] ^= 0xff; // a payload byte of record 1, fsynced long before records 2 and 3
  writeFileSync(seg, bytes);
  writeFileSync(join(dir, 'durable.offset'), encodeDurableHint(1));
  const r = await open(dir);
  assert.ok(r.startsWith('ERR_LOG_CORRUPT'), r);
  assert.match(r, 'had been made durable');
});

test.run();
