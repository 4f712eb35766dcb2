/**
 * `dump --since` beside retention. It found where to start by a search at the consumer's open, after
 * it had read the log's end: when retention deleted records in between, the search started at the
 * oldest record left, past records at or after the time that were in the log it read, and the dump
 * went on from there with exit 0 and no word (or printed nothing when all of them were gone). The
 * start is now found in the same listing as the end, and a dump whose records retention deletes
 * before it opens, or while it searches, fails with ERR_POSITION_EXPIRED, as a plain dump does.
 */
import * as assert from 'uvu/assert';
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer } from '../src/consumer/consumer.js';
import { cli, killCliProcesses } from './cli-kit.js';
import { cliInProcess } from './cli-inproc-kit.js';
import { logOf, suite } from './kit.js';

const test = suite('cli dump --since beside retention');
test.after(killCliProcesses);

const RETAIN_IO = fileURLToPath(new URL('./fixtures/retain-at-search-io.mjs', import.meta.url));
const segments = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();
/** 60 records in segments of about 1 KiB (four of them). */
async function fourSegments(): Promise<string> {
  const logDir = await logOf(Array.from({ length: 60 }, (_, i) => `record ${i} ${'x'.repeat(40)}`), { fileRollSize: 1024, flushAfter: (i) => i % 5 === 4 });
  assert.ok(segments(logDir).length >= 4, segments(logDir).join(' '));
  return logDir;
}

/** Makes the next Consumer.open of this process delete every segment but the newest `keep` first. */
function retainAtOpen(logDir: string, keep: number): void {
  const open = Consumer.open;
  Consumer.open = ((...args: Parameters<typeof Consumer.open>) => {
    Consumer.open = open;
    for (const s of segments(logDir).slice(0, -keep)) {
      unlinkSync(join(logDir, s));
      unlinkSync(join(logDir, s.replace('.seg', '.idx')));
    }
    return open.apply(Consumer, args);
  }) as typeof Consumer.open;
}

for (const keep of [1, 2]) {
  test(`records deleted between reading the end and the open (${keep} segment${keep > 1 ? 's' : ''} left): ERR_POSITION_EXPIRED, nothing printed`, async () => {
    const logDir = await fourSegments();
    retainAtOpen(logDir, keep);
    const r = await cliInProcess('dump', logDir, '--since', '0');
    assert.is(r.stdout, '');
    assert.match(r.stderr, /ERR_POSITION_EXPIRED/);
    assert.is(r.status, 1);
  });
}

for (const [what, pick] of [['the oldest', 1], ['all but the newest', -1]] as const) {
  test(`records deleted while dump searches by time (${what} segments): ERR_POSITION_EXPIRED`, () => {
    return (async () => {
      const logDir = await fourSegments();
      process.env.REACTIVE_LOG_TEST_FILE_IO = RETAIN_IO;
      process.env.REACTIVE_LOG_RETAIN_BELOW = segments(logDir).at(pick)!;
      try {
        const r = cli('dump', logDir, '--since', '0');
        assert.is(r.stdout, '');
        assert.match(r.stderr, /ERR_POSITION_EXPIRED/, `exit ${r.status}, stdout ${JSON.stringify(r.stdout.slice(0, 200))}, stderr ${JSON.stringify(r.stderr)}`);
        assert.match(r.stderr, /retention deleted while dump looked for them \(offsets 0 to \d+\)/);
        assert.is(r.status, 1);
      } finally {
        delete process.env.REACTIVE_LOG_TEST_FILE_IO;
        delete process.env.REACTIVE_LOG_RETAIN_BELOW;
      }
      assert.ok(!segments(logDir).includes('00000000000000000000.seg'), 'the file layer deleted the oldest segment');
    })();
  });
}

test('a time past every record, segments deleted during the search: nothing to print, exit 0', async () => {
  const logDir = await fourSegments();
  process.env.REACTIVE_LOG_TEST_FILE_IO = RETAIN_IO;
  process.env.REACTIVE_LOG_RETAIN_BELOW = segments(logDir)[1]!;
  try {
    const r = cli('dump', logDir, '--since', String(Date.now() + 3_600_000));
    assert.is(r.stderr, '');
    assert.is(r.stdout, '');
    assert.is(r.status, 0);
  } finally {
    delete process.env.REACTIVE_LOG_TEST_FILE_IO;
    delete process.env.REACTIVE_LOG_RETAIN_BELOW;
  }
});

test('without retention, --since 0 prints every record', async () => {
  const logDir = await fourSegments();
  const r = cli('dump', logDir, '--since', '0');
  assert.is(r.stderr, '');
  assert.is(r.stdout.trimEnd().split('\n').length, 60);
  assert.is(r.status, 0);
});

test.run();
