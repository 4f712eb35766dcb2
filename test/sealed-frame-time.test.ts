/**
 * Recovery takes the newest timestamp of the log for the writer's clock, and each sealed segment's
 * newest one for its age, from the last frame header of each sealed segment, a field no checksum was
 * read for. A frame whose timestamp field is damaged (its checksum fails) must give neither: records
 * appended after the restart are stamped by the clock (not NaN or a far future time forever after),
 * and retention does not take a recent segment for an old one.
 */
import * as assert from 'uvu/assert';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { logOf, suite } from './kit.js';
import { framesOf } from './reader-kit.js';

const test = suite('sealed-frame-time');

/** A closed log of 40 records over 3 segments; writes `value` into the timestamp field of sealed segment `which`'s last frame. */
async function damagedLog(value: number, which: 'first' | 'newest sealed'): Promise<string> {
  const logDir = await logOf(40, { fileRollSize: 1024, flushAfter: () => true });
  const frames = framesOf(logDir);
  const segments = [...new Set(frames.map((f) => f.path))];
  assert.ok(segments.length >= 3, `${segments.length} segments`);
  const path = which === 'first' ? segments[0]! : segments[segments.length - 2]!;
  const last = frames.filter((f) => f.path === path).at(-1)!;
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value, 0);
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, b, 0, 8, last.pos + 24);
  } finally {
    closeSync(fd);
  }
  return logDir;
}

for (const value of [NaN, 1e15, 1e300]) {
  test(`a sealed frame's damaged timestamp ${value} does not stamp the records appended after a restart`, async () => {
    const logDir = await damagedLog(value, 'newest sealed');
    const before = Date.now();
    const p = await Producer.open({ logDir });
    try {
      assert.is(p.append('new'), 40);
      await p.flush();
    } finally {
      await p.close();
    }
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(40)) });
    let stamp: number | undefined;
    try {
      for (const m of c.iter()) {
        stamp = m.timestamp;
        break;
      }
    } finally {
      await c.close();
    }
    assert.ok(stamp !== undefined && stamp >= before && stamp <= Date.now(), `record 40 stamped ${stamp}, the clock read ${before} .. ${Date.now()}`);
  });
}

test('a sealed frame\'s damaged timestamp 0 does not make retention delete a recent segment', async () => {
  const logDir = await damagedLog(0, 'first');
  // The writer applies retention on every idle pass, so at least once before close() resolves.
  const p = await Producer.open({ logDir, maxFileAge: 3_600_000 });
  await p.close();
  assert.ok(existsSync(join(logDir, '00000000000000000000.seg')), 'the first segment, written just now, was deleted as older than an hour');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    for (const m of c.iter()) {
      assert.is(m.offset, 0);
      break;
    }
  } finally {
    await c.close();
  }
});

test.run();
