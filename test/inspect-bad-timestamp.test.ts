/**
 * A frame header whose timestamp field is damaged (NaN, or a time no Date can hold) in the first frame
 * of a segment: inspectLog reports that segment's oldestTimestamp as null, `info` prints its summary
 * and exits 0, and `info --json` holds no impossible time.
 */
import * as assert from 'uvu/assert';
import { closeSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { inspectLog } from '../dist/index.js';
import { logOf, suite } from './kit.js';
import { cli } from './cli-kit.js';

const test = suite('inspect-bad-timestamp');

/** Writes `value` into the timestamp field (bytes 24-31) of the oldest segment's first frame. */
function damageFirstTimestamp(logDir: string, value: number): void {
  const seg = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort()[0]!;
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value, 0);
  const fd = openSync(join(logDir, seg), 'r+');
  writeSync(fd, b, 0, 8, 32 + 24);
  closeSync(fd);
}

for (const value of [NaN, 1e300, -9e15]) {
  test(`first frame timestamp ${value}: inspectLog and info`, async () => {
    const logDir = await logOf(120, { fileRollSize: 1024, flushAfter: () => true });
    damageFirstTimestamp(logDir, value);
    const info = await inspectLog(logDir);
    assert.ok(info.segments.length >= 2);
    assert.is(info.segments[0]!.oldestTimestamp, null);
    assert.type(info.segments[1]!.oldestTimestamp, 'number');
    const text = cli('info', logDir);
    assert.is(text.status, 0, text.stderr);
    assert.match(text.stdout, /next offset\s+120/);
    const json = cli('info', logDir, '--json');
    assert.is(json.status, 0, json.stderr);
    assert.is((JSON.parse(json.stdout) as { segments: Array<{ oldestTimestamp: unknown }> }).segments[0]!.oldestTimestamp, null);
  });
}

test.run();
