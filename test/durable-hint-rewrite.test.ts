/**
 * durable.offset is rewritten in place, never truncated: a producer that opens an existing log leaves
 * the value the last writer recorded readable until its own first write replaces the 12 bytes, so a
 * reader in another process never finds the file empty or short while a producer opens. A crash in
 * the middle of a rewrite (a torn write) still fails the checksum: the hint reads as unknown, and the
 * next producer opens the log and writes the file whole again. Each crash is a SIGKILL at a chosen
 * file operation of the writer thread (test/fixtures/kill-at-io.mjs).
 */
import * as assert from 'uvu/assert';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { Producer, inspectLog } from '../dist/index.js';
import { logOf, suite, tempDir } from './kit.js';
import { Child } from './child.js';

const test = suite('durable-hint-rewrite');
const HOOK = fileURLToPath(new URL('./fixtures/kill-at-io.mjs', import.meta.url));

/** The bytes of durable.offset and what they say: the offset, or null when short or the CRC fails. */
function hintFile(logDir: string): { bytes: number; offset: number | null } {
  const b = readFileSync(join(logDir, 'durable.offset'));
  if (b.length < 12 || crc32(b.subarray(0, 8)) !== b.readUInt32LE(8)) return { bytes: b.length, offset: null };
  return { bytes: b.length, offset: b.readUInt32LE(0) + b.readUInt32LE(4) * 2 ** 32 };
}

/** Runs test/fixtures/crash-producer.mjs on `logDir` until the kill-at-io hook SIGKILLs it at `point`. */
async function producerKilledAt(logDir: string, point: object, policy = 'always'): Promise<void> {
  const cfg = {
    dir: logDir, run: 1, inc: 0, policy, roll: 1 << 20, maxTotalBytes: null, maxFileAge: null,
    ringBytes: 65536, indexIntervalBytes: 4096, burstMax: 5, ack: 'flush', seed: 11,
  };
  const child = Child.fork('crash-producer.mjs', [JSON.stringify(cfg)], {
    execArgv: [],
    env: { ...process.env, REACTIVE_LOG_TEST_FILE_IO: HOOK, REACTIVE_LOG_KILL_AT: JSON.stringify(point) },
  });
  await child.exited;
  const errors = child.pending.filter((m) => m.type === 'error').map((m) => String(m.message));
  assert.is(child.exitInfo?.signal, 'SIGKILL', `the child died at the point (${JSON.stringify(child.exitInfo)}): ${errors.join('; ')} ${child.stderr}`);
}

test('a producer killed between opening durable.offset and writing it leaves the value the last writer recorded, whole', async () => {
  const logDir = await logOf(100);
  assert.equal(hintFile(logDir), { bytes: 12, offset: 100 });
  // The writer thread's first write to durable.offset is the value it publishes when it opens: dying
  // just before it leaves the file as a reader in another process finds it in that moment.
  await producerKilledAt(logDir, { op: 'writev', file: 'hint', n: 1, mode: 'before' });
  const seen = hintFile(logDir);
  console.log(`  durable.offset after a kill between the open and the first write: ${JSON.stringify(seen)}`);
  assert.equal(seen, { bytes: 12, offset: 100 }, 'the previous value, never an empty or short file');
});

test('a torn rewrite of durable.offset fails its checksum: unknown to readers, and the next producer opens the log and writes it whole', async () => {
  const logDir = tempDir();
  // Write 1 is the 0 published at open (a fresh log); write 2 the first durable offset past it,
  // of which only the first 6 of 12 bytes reach the file.
  await producerKilledAt(logDir, { op: 'writev', file: 'hint', n: 2, mode: 'torn', cut: 0.5 });
  const torn = hintFile(logDir);
  console.log(`  durable.offset after a torn rewrite: ${JSON.stringify(torn)}`);
  assert.equal(torn, { bytes: 12, offset: null }, 'a whole-sized file whose checksum does not match');
  const info = await inspectLog(logDir);
  assert.ok(info.nextOffset > 0, 'the records before the torn rewrite are in the log');
  assert.is(info.durableOffset, 0, 'unknown: no record is proven durable (a transactional consumer in another process hands out none)');
  const p = await Producer.open({ logDir });
  try {
    assert.is(p.nextOffset, info.nextOffset);
    assert.equal(hintFile(logDir), { bytes: 12, offset: p.nextOffset });
  } finally {
    await p.close();
  }
  assert.is(statSync(join(logDir, 'durable.offset')).size, 12);
});

test('a durable.offset whose checksum does not match reads as unknown, whatever value its first 8 bytes hold', async () => {
  const logDir = await logOf(10);
  // Offset 4 (above the log start, so taking it would show: durableOffset 4), its CRC off by one bit.
  const b = Buffer.alloc(12);
  b.writeUInt32LE(4, 0);
  b.writeUInt32LE((crc32(b.subarray(0, 8)) ^ 1) >>> 0, 8);
  writeFileSync(join(logDir, 'durable.offset'), b);
  assert.equal(hintFile(logDir), { bytes: 12, offset: null }, 'the file fails its checksum');
  const info = await inspectLog(logDir);
  assert.is(info.nextOffset, 10);
  assert.is(info.durableOffset, 0, 'unknown: no record is proven durable, not the 4 the bytes say');
});

test('a durable.offset longer than 12 bytes: the producer writes its value over the first 12 and cuts the rest', async () => {
  const logDir = await logOf(20);
  const file = join(logDir, 'durable.offset');
  writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.alloc(20, 0xee)]));
  const p = await Producer.open({ logDir });
  try {
    assert.equal(hintFile(logDir), { bytes: 12, offset: 20 });
  } finally {
    await p.close();
  }
});

test.run();
