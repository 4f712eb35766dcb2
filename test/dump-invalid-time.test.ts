/**
 * A record whose stored timestamp is no time a Date can hold (NaN, or past the year 275760), in a
 * frame whose checksum holds: what a writer stamped from a damaged clock value. `dump` and `get`
 * print it, its time shown as invalid (text) or null (--json), as `info` shows such a time, instead
 * of failing with a RangeError from Date.toISOString.
 */
import * as assert from 'uvu/assert';
import { logOf, suite } from './kit.js';
import { cli } from './cli-kit.js';
import { framesOf, restamp } from './reader-kit.js';

const test = suite('dump-invalid-time');

for (const value of [NaN, 1e300, -9e15]) {
  test(`a record stamped ${value}: dump and get print it`, async () => {
    const logDir = await logOf(3, { flushAfter: () => true });
    restamp(logDir, 1, value);
    assert.is(framesOf(logDir).length, 3, 'the restamped frame passes its checks');
    const text = cli('dump', logDir);
    assert.is(text.status, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    assert.is(lines.length, 3, text.stdout);
    assert.match(lines[1]!, /^1 invalid\S* rec-1$/);
    const json = cli('dump', logDir, '--json');
    assert.is(json.status, 0, json.stderr);
    const rec = JSON.parse(json.stdout.trimEnd().split('\n')[1]!) as { offset: number; time: unknown; data: string };
    assert.equal([rec.offset, rec.time, rec.data], [1, null, 'rec-1']);
    const got = cli('get', logDir, '1');
    assert.is(got.status, 0, got.stderr);
    assert.match(got.stdout, /^1 invalid\S* rec-1\n$/);
  });
}

test.run();
