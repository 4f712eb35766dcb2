/**
 * Invalid bytes in the newest segment of a log with no live producer read as a torn tail (the end)
 * only when nothing says the records there were durable. A closed log whose durable.offset says 30
 * records were fsynced, with one byte flipped in the middle of its newest segment, is damaged: verify
 * says so and recovery refuses it, and so must a reader and the commands that read (dump, tail,
 * info), instead of ending early with the durable records after the damage silently missing.
 */
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('reader and durable.offset');
test.after(killCliProcesses);

/**
 * 30 records in several frames (each group of 3 written before the next is appended), none fsynced
 * before close(): no valid frame after the damage was fsynced after it, so only durable.offset (30,
 * written by close()) says the damage is not a torn tail. One byte flipped mid-segment.
 */
async function damagedLog(): Promise<string> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  for (let i = 0; i < 30; i++) {
    p.append(`rec-${i}`);
    if (i % 3 === 2) await waitFor(() => p.writtenOffset === i + 1, `records to ${i} written`);
  }
  assert.is(p.durableOffset, 0, 'nothing fsynced before close()');
  await p.close();
  const seg = join(logDir, '00000000000000000000.seg');
  const b = readFileSync(seg);
  b[b.length >> 1] ^= 0xff;
  writeFileSync(seg, b);
  return logDir;
}

test('a consumer gets ERR_LOG_CORRUPT naming the records durable.offset reported (at open, which reads the bounds), never an early end', async () => {
  const logDir = await damagedLog();
  let err: (Error & { code?: string }) | null = null;
  const seen: number[] = [];
  try {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    try {
      for (const m of c.iter()) seen.push(m.offset);
    } finally {
      await c.close();
    }
  } catch (e) {
    err = e as Error & { code?: string };
  }
  assert.ok(err !== null, `the consumer read ${seen.length} records and ended`);
  assert.is(err.code, 'ERR_LOG_CORRUPT');
  assert.match(err.message, /were reported durable \(durable\.offset\)/);
  assert.equal(seen, seen.map((_, i) => i), 'what was handed out: in order from 0');
});

test('verify, dump, tail and info all fail on it (exit 1)', async () => {
  const logDir = await damagedLog();
  assert.is(cli('verify', logDir).status, 1);
  for (const args of [['dump', logDir], ['tail', logDir, '-n', '3'], ['info', logDir, '--json']]) {
    const r = cli(...args);
    assert.is(r.status, 1, `${args[0]}: exit ${r.status}; stdout ${JSON.stringify(r.stdout.slice(0, 200))}`);
    assert.match(r.stderr, /ERR_LOG_CORRUPT/, `${args[0]}: ${r.stderr}`);
  }
});

test.run();
