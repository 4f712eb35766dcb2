/**
 * A middle segment that the directory lists but that cannot be opened (a dangling symbolic link): a
 * reader coming from the segment before it, a seek straight to it, `dump`, a tailing consumer and
 * `tail -f` each report ERR_LOG_CORRUPT instead of ending (or waiting) at its base.
 */
import * as assert from 'uvu/assert';
import { readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence } from '../dist/index.js';
import { logOf, suite, waitFor } from './kit.js';
import { iterOutcome } from './read-kit.js';
import { CliProcess, cli, killCliProcesses } from './cli-kit.js';

const test = suite('reader-dangling-segment');
test.after(killCliProcesses);

let logDir = '';
let midBase = 0;

test.before(async () => {
  logDir = await logOf(100, { fileRollSize: 1024, flushAfter: (i: number) => i % 2 === 1 });
  const segs = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort();
  assert.ok(segs.length >= 3);
  const mid = segs[1]!;
  midBase = Number(mid.slice(0, 20));
  rmSync(join(logDir, mid));
  symlinkSync(join(logDir, 'no-such-target'), join(logDir, mid));
});

test('iter() from the oldest and a seek to the dangling segment: ERR_LOG_CORRUPT', async () => {
  assert.is(await iterOutcome(logDir, Whence.oldest()), 'ERR_LOG_CORRUPT');
  assert.is(await iterOutcome(logDir, Whence.position(midBase)), 'ERR_LOG_CORRUPT');
});

test('a tailing consumer meets the damage instead of waiting', async () => {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  let n = 0;
  try {
    // Bounded: a tail that waits at the damage ends at the deadline, without an error, and fails below.
    for await (const m of c.tail({ signal: AbortSignal.timeout(10_000) })) {
      assert.ok(m.offset < midBase);
      n++;
    }
    assert.unreachable('the tail ended without an error');
  } catch (e) {
    assert.is((e as { code: string }).code, 'ERR_LOG_CORRUPT');
  } finally {
    await c.close();
  }
  assert.is(n, midBase);
});

test('dump and tail -f exit with ERR_LOG_CORRUPT', async () => {
  const dump = cli('dump', logDir);
  assert.is.not(dump.status, 0);
  assert.match(dump.stderr, /ERR_LOG_CORRUPT/);
  const tail = new CliProcess(['tail', logDir, '-n', '100', '-f']);
  await waitFor(() => tail.exit !== null, 'tail -f to exit');
  assert.is.not(tail.exit!.code, 0);
  assert.match(tail.stderr, /ERR_LOG_CORRUPT/);
});

test.run();
