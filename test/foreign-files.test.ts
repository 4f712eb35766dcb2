/**
 * Foreign file types in a log directory: a FIFO where the log keeps a segment, an index, the durable
 * hint or a cursor file. open(2) of a FIFO blocks until a writer comes, so an opener that is not
 * careful hangs forever. Each open runs in a child process under a timeout (test/fixtures/
 * open-foreign.mjs): every one must end, refuse the file with ERR_LOG_CORRUPT naming it (verifyLog:
 * report it as damage), and leave the directory as it was.
 */
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { suite, digestDir, liveLogOf, tempDir } from './kit.js';

const test = suite('foreign-files');
const OPENER = fileURLToPath(new URL('./fixtures/open-foreign.mjs', import.meta.url));
/** Far longer than any of these opens takes; a blocked open(2) never returns at all. */
const HANG_MS = 20_000;

interface Outcome { readonly ok: boolean; readonly code?: string; readonly message?: string; readonly findings?: string[] }

function openIn(what: string, logDir: string, ...args: string[]): Outcome {
  const r = spawnSync(process.execPath, [OPENER, what, logDir, ...args], { encoding: 'utf8', timeout: HANG_MS });
  if (r.error !== undefined || r.signal !== null) throw new Error(`${what} on ${logDir} did not end within ${HANG_MS} ms (${r.signal ?? r.error?.message}): it blocked`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Outcome;
  } catch {
    throw new Error(`${what}: no result line; stdout ${r.stdout}, stderr ${r.stderr}`);
  }
}

/** A log of 3 records in 1 segment, with a committed cursor 'billing', closed cleanly. */
async function smallLog(): Promise<{ logDir: string; segment: string; index: string }> {
  const { logDir, p } = await liveLogOf(['r0', 'r1', 'r2']);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(1, () => 'commit');
  await c.close();
  await p.close();
  const names = readdirSync(logDir);
  return { logDir, segment: names.find((n) => n.endsWith('.seg'))!, index: names.find((n) => n.endsWith('.idx'))! };
}

function replaceWithFifo(path: string): void {
  rmSync(path);
  execFileSync('mkfifo', [path]);
}

const cases: ReadonlyArray<{ name: string; place: (l: Awaited<ReturnType<typeof smallLog>>) => string; opens: readonly string[] }> = [
  { name: 'the segment', place: (l) => l.segment, opens: ['producer', 'nontx', 'clienttx', 'verify'] },
  { name: 'a newer segment', place: (l) => { const n = l.segment.replace(/^\d+/, (d) => String(Number(d) + 3).padStart(d.length, '0')); execFileSync('mkfifo', [join(l.logDir, n)]); return n; }, opens: ['producer', 'nontx', 'verify'] },
  { name: 'the index', place: (l) => l.index, opens: ['producer', 'nontx', 'verify'] },
  { name: 'durable.offset', place: () => 'durable.offset', opens: ['producer', 'verify'] },
  { name: 'the cursor file', place: () => join('cursors', 'client.billing.cursor'), opens: ['clienttx', 'verify'] },
];

for (const c of cases) {
  test(`a FIFO as ${c.name}: ${c.opens.join(', ')} end, refuse it, and change nothing`, async () => {
    const log = await smallLog();
    const file = c.place(log);
    const path = join(log.logDir, file);
    if (!readdirSync(join(path, '..')).includes(file.split('/').pop()!)) throw new Error(`setup: ${file} missing`);
    try { replaceWithFifo(path); } catch { /* the newer segment is made as a FIFO already */ }
    mkdirSync(join(log.logDir, 'cursors'), { recursive: true });
    const before = digestDir(log.logDir);
    const cursorsBefore = digestDir(join(log.logDir, 'cursors'));
    for (const what of c.opens) {
      const out = openIn(what, log.logDir);
      if (what === 'verify') {
        assert.is(out.ok, false, `verify reports damage: ${JSON.stringify(out)}`);
        assert.ok(out.findings!.some((f) => f.startsWith('damage') && f.includes(file.split('/').pop()!)), `verify names ${file}: ${JSON.stringify(out.findings)}`);
      } else {
        assert.equal({ ok: out.ok, code: out.code }, { ok: false, code: 'ERR_LOG_CORRUPT' }, `${what}: ${JSON.stringify(out)}`);
        assert.ok(out.message!.includes(file.split('/').pop()!), `${what} names ${file}: ${out.message}`);
      }
      assert.is(digestDir(log.logDir), before, `${what} left the directory as it was`);
      assert.is(digestDir(join(log.logDir, 'cursors')), cursorsBefore, `${what} left cursors/ as it was`);
    }
  });
}

test('a FIFO or a directory as every segment but the newest: a seek by time refuses it (ERR_LOG_CORRUPT), as reading from the oldest does', async () => {
  for (const kind of ['fifo', 'dir'] as const) {
    const logDir = tempDir();
    const p = await Producer.open({ logDir, fileRollSize: 1024 });
    for (let i = 0; i < 60; i++) {
      p.append(`record ${i} ${'x'.repeat(60)}`);
      if (i % 10 === 9) await p.flush(); // a frame of 10 records, and a roll at 1 KiB
    }
    await p.close();
    const segments = readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort();
    assert.ok(segments.length >= 4, `${segments.length} segments`);
    for (const s of segments.slice(0, -1)) {
      rmSync(join(logDir, s));
      if (kind === 'fifo') execFileSync('mkfifo', [join(logDir, s)]);
      else mkdirSync(join(logDir, s));
    }
    const before = digestDir(logDir);
    const out = openIn('bytime', logDir, String(Date.now()));
    assert.equal({ ok: out.ok, code: out.code }, { ok: false, code: 'ERR_LOG_CORRUPT' }, `${kind}: ${JSON.stringify(out)}`);
    assert.match(out.message!, /\.seg/, `${kind}: names a segment: ${out.message}`);
    assert.is(digestDir(logDir), before);
  }
});

test.run();
