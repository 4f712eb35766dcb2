/**
 * dump (and tail -f, which reads the same way) beside a producer in another process that rolls
 * segments: when the reader looked for the next segment before the writer renamed it into place, and
 * the listing it then made missed that segment (readdir is no snapshot: an entry renamed in while it
 * runs may be left out) while it named the segment after it, the reader called the log corrupt
 * ("the segment ends at offset N, but the next one starts at M", ERR_LOG_CORRUPT, exit 1) though no
 * record was missing. Seen with `tail -f` beside a producer rolling 1 KiB segments; replayed here by
 * a file layer that hides the segment from that first look and that listing.
 */
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { logOf, suite } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('cli-dump-listing-race');
test.after(killCliProcesses);

const HIDE_IO = fileURLToPath(new URL('./fixtures/hide-segment-io.mjs', import.meta.url));

test('a listing that misses the next segment while naming a later one: every record, exit 0', async () => {
  const texts = Array.from({ length: 60 }, (_, i) => `record ${i} ${'x'.repeat(40)}`);
  const logDir = await logOf(texts, { fileRollSize: 1024, flushAfter: (i: number) => i % 5 === 4 });
  const segs = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort();
  assert.ok(segs.length >= 3, `${segs.length} segments`);
  process.env.REACTIVE_LOG_TEST_FILE_IO = HIDE_IO;
  process.env.REACTIVE_LOG_HIDE_SEGMENT = segs[1]!;
  try {
    const r = cli('dump', logDir);
    assert.is(r.stderr, '');
    assert.is(r.status, 0);
    assert.equal(r.stdout.trimEnd().split('\n').map((l) => l.split(' ').slice(2).join(' ')), texts);
  } finally {
    delete process.env.REACTIVE_LOG_TEST_FILE_IO;
    delete process.env.REACTIVE_LOG_HIDE_SEGMENT;
  }
});

test.run();
