/**
 * An index file grown to 1 GiB (a sparse file: a copy or a file system gone wrong) is read in bounded
 * pieces: a seek by position or by time reads it only up to its first entry that breaks the trusted-
 * prefix rule and never past what the segment's size allows, so it costs a longer scan, not the file's
 * size in memory; verifyLog reports the entries past that bound as damage without reading them. Each
 * check runs in a child with a 256 MiB heap, where holding the file's entries in arrays runs out of memory.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
import { suite, tempDir } from './kit.js';

const test = suite('index-huge-file');
const GiB = 1024 * 1024 * 1024;
const lib = new URL('../dist/index.js', import.meta.url).href;

/** Runs `body` (an async function body, given `logDir` and the library as `lib`) in a child with a 256 MiB heap; returns what it prints after RESULT. */
function inSmallHeap(logDir: string, body: string): string {
  const script = `const lib = await import(${JSON.stringify(lib)}); const logDir = ${JSON.stringify(logDir)};
    try { ${body} } catch (e) { console.log('RESULT error', e.code, e.message); }`;
  const r = spawnSync(process.execPath, ['--max-old-space-size=256', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  return line?.slice('RESULT '.length) ?? `no result: status ${r.status} signal ${r.signal}; ${r.stderr.split('\n').filter((l) => /heap|memory|Error/i.test(l)).slice(0, 2).join(' | ')}`;
}

/** Segments 0 (sealed) and 100 (active), 100 records each, one frame per record; then `damage(logDir)`. */
async function twoSegments(): Promise<string> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), indexIntervalBytes: 512 });
  for (let i = 0; i < 100; i++) {
    p.append(`rec-${i}`);
    await p.flush();
  }
  await p.roll();
  for (let i = 100; i < 200; i++) {
    p.append(`rec-${i}`);
    await p.flush();
  }
  await p.close();
  return logDir;
}

const SEALED_IDX = '00000000000000000000.idx';
const ACTIVE_IDX = '00000000000000000100.idx';

test('seeks by position and by time through 1 GiB sparse indexes read the records', async () => {
  const logDir = await twoSegments();
  truncateSync(join(logDir, SEALED_IDX), GiB); // zeros past its entries: they stop at the first zero entry
  truncateSync(join(logDir, ACTIVE_IDX), GiB);
  const got = inSmallHeap(logDir, `
    const { Consumer, ConsumerStyle, Whence } = lib;
    const out = [];
    for (const whence of [Whence.position(50), Whence.position(150), Whence.timestamp(0)]) {
      const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(whence) });
      const m = c.iter().next().value;
      out.push(m.offset + ':' + Buffer.from(m.data).toString());
      await c.close();
    }
    console.log('RESULT ok', out.join(' '));`);
  assert.is(got, 'ok 50:rec-50 150:rec-150 0:rec-0');
});

test('verifyLog reports the entries past what the sealed segment allows as damage, without reading them', async () => {
  const logDir = await twoSegments();
  truncateSync(join(logDir, SEALED_IDX), GiB);
  const got = inSmallHeap(logDir, `
    const r = await lib.verifyLog(logDir);
    const idx = r.findings.filter((f) => f.file === ${JSON.stringify(SEALED_IDX)});
    console.log('RESULT', JSON.stringify({ ok: r.ok, idx: idx.map((f) => f.severity + ' ' + f.message) }));`);
  assert.ok(got.startsWith('{'), got);
  const r = JSON.parse(got) as { ok: boolean; idx: string[] };
  assert.is(r.ok, false, got);
  assert.ok(r.idx.some((m) => /^damage holds \d+ entries more than a segment of \d+ bytes has room for frames/.test(m)), got);
});

test.run();
