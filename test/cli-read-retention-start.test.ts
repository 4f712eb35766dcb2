/**
 * `dump` and `tail` (without -f) on a busy log whose retention deletes records as fast as they come
 * (segments of 4 KiB, 16 KiB kept, a producer in another process appending and flushing in a loop).
 * They read the log's offsets, then open a consumer: retention may delete the records they meant to
 * print in between. They opened at the oldest record then, which could lie past the end they read:
 * they printed nothing and exited 0, without a word. Now `dump` fails with ERR_POSITION_EXPIRED, as
 * when retention overtakes it mid-read, and `tail` looks up the last records again. Each run prints
 * records (contiguous offsets), or fails with exit code 1 and ERR_POSITION_EXPIRED.
 */
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspectLog } from '../dist/index.js';
import { cli } from './cli-kit.js';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('cli dump and tail: retention at their start');
const DIST = new URL('../dist/index.js', import.meta.url).pathname;

/** A producer process appending to `logDir` under tight retention until the file `stopFile` exists. */
function busyProducer(logDir: string, stopFile: string): Promise<number | null> {
  const script = join(tempDir(), 'busy.mjs');
  writeFileSync(script, `import { existsSync } from 'node:fs';
import { Producer } from ${JSON.stringify(DIST)};
const p = await Producer.open({ logDir: ${JSON.stringify(logDir)}, fileRollSize: 4096, maxTotalBytes: 16384 });
let i = 0;
while (!existsSync(${JSON.stringify(stopFile)})) { for (let k = 0; k < 50; k++) p.append('live ' + (i++)); await p.flush(); }
await p.close();`);
  const child = spawn(process.execPath, [script], { stdio: 'inherit' });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

test('dump and tail print records, or fail with ERR_POSITION_EXPIRED: never nothing with exit 0', async () => {
  const logDir = join(tempDir(), 'log');
  const stopFile = join(tempDir(), 'stop');
  const producer = busyProducer(logDir, stopFile);
  const outcomes: Record<string, number> = {};
  try {
    await waitFor(async () => (await inspectLog(logDir).then((i) => i.logStartOffset, () => 0)) > 1_000, 'retention to delete records', 30_000);
    for (let i = 0; i < 6; i++) {
      for (const cmd of ['dump', 'tail']) {
        const r = cli(cmd, logDir, '--json');
        const lines = r.stdout.split('\n').filter((l) => l !== '');
        if (r.status === 1) {
          assert.match(r.stderr, /ERR_POSITION_EXPIRED/, `${cmd}: ${r.stderr}`);
          outcomes[`${cmd} expired`] = (outcomes[`${cmd} expired`] ?? 0) + 1;
          continue;
        }
        assert.is(r.status, 0, `${cmd}: ${r.stderr}`);
        assert.ok(lines.length > 0, `${cmd} printed nothing and exited 0 on a log holding records`);
        const offsets = lines.map((l) => (JSON.parse(l) as { offset: number }).offset);
        assert.equal(offsets, offsets.map((_, k) => offsets[0]! + k), `${cmd}: contiguous offsets`);
        if (cmd === 'tail') assert.ok(lines.length <= 10);
        outcomes[`${cmd} printed`] = (outcomes[`${cmd} printed`] ?? 0) + 1;
      }
    }
  } finally {
    writeFileSync(stopFile, '');
    assert.is(await producer, 0, 'the producer');
  }
  process.stdout.write(`#   ${JSON.stringify(outcomes)}\n`);
});

test.run();
