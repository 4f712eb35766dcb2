/**
 * With no producer running, a producer.lock a crashed producer left with "recovered": true naming
 * another host (whose liveness this host cannot check) is no proof for readers: they find the log's
 * end by walking from the last index entry at or below durable.offset, not at the last index entry,
 * which lies past a torn tail the next producer's recovery cuts.
 */
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Producer, SyncPolicy, inspectLog } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';
import { encodeHint, parseSegment } from './corruption-kit.js';

const test = suite('stale-lock-no-producer');
const SEG = '00000000000000000000.seg';

test('no producer: a stale cross-host "recovered" lock file does not move the end past a torn tail', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), indexIntervalBytes: 512 });
  for (let i = 0; i < 10; i++) p.append(`durable-${i}`);
  await p.flush();
  const durable = p.durableOffset;
  for (let i = 0; i < 8; i++) {
    p.append(`unsynced-${i}-${'u'.repeat(200)}`);
    await waitFor(() => p.writtenOffset === p.nextOffset, 'the frame written');
  }
  await p.close();
  const b = readFileSync(join(logDir, SEG));
  const torn = parseSegment(SEG, b).frames.find((f) => f.base === durable)!;
  b.fill(0, torn.pos, torn.pos + torn.bytes);
  writeFileSync(join(logDir, SEG), b);
  writeFileSync(join(logDir, 'durable.offset'), encodeHint(durable));
  writeFileSync(join(logDir, 'producer.lock'), JSON.stringify({ pid: 4_000_000, start: '1', host: `${hostname()}-gone`, thread: 0, recovered: true }));
  assert.is((await inspectLog(logDir)).nextOffset, durable);
});

test.run();
