/**
 * Anything but a regular file at a cursor's lock path (`cursors/<stem>.lock`: a folder, a symbolic
 * link, a FIFO) makes the transactional Consumer.open of that cursor refuse with ERR_LOG_CORRUPT
 * (lock.ts never opens a lock through a link, and a folder is no lock file): verifyLog reports it as
 * damage, never a clean log a consumer does not open, and changes nothing. A regular lock file, the
 * one a consumer leaves, stays no finding.
 */
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, verifyLog } from '../dist/index.js';
import { digestDir, logOf, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('verify-cursor-lock-file');

async function logWithBilling(): Promise<string> {
  const logDir = await logOf(20);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(5, () => 'commit');
  await c.close();
  return logDir;
}

const kinds: Record<string, (path: string) => void> = {
  folder: (path) => { mkdirSync(path); writeFileSync(join(path, 'x'), 'x'); },
  'symbolic link to a file': (path) => { const target = join(tempDir(), 'elsewhere'); writeFileSync(target, ''); symlinkSync(target, path); },
  'dangling symbolic link': (path) => symlinkSync(join(tempDir(), 'nothing-here'), path),
  fifo: (path) => execFileSync('mkfifo', [path]),
};

for (const [kind, make] of Object.entries(kinds)) {
  test(`a ${kind} at cursors/client.billing.lock: damage in verify's report, and the consumer does not open`, async () => {
    const logDir = await logWithBilling();
    const name = 'cursors/client.billing.lock';
    make(join(logDir, name));
    // digestDir follows links: a dangling one is compared by the listing and where it points.
    const digest = (): string => (kind.startsWith('dangling') ? `${readdirSync(join(logDir, 'cursors')).join()} ${readlinkSync(join(logDir, name))}` : digestDir(logDir));
    const before = digest();
    const r = await verifyLog(logDir);
    assert.is(digest(), before, 'verify changed nothing');
    await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') }), 'ERR_LOG_CORRUPT');
    assert.is(r.ok, false, `the report is not ok: ${JSON.stringify(r.findings)}`);
    assert.ok(r.findings.some((f) => f.severity === 'damage' && f.file === name), `a damage finding names ${name}`);
  });
}

test('a folder at the lock of a cursor not created yet (cursors/global.lock): damage, globalTx does not open', async () => {
  const logDir = await logWithBilling();
  mkdirSync(join(logDir, 'cursors', 'global.lock'));
  const r = await verifyLog(logDir);
  await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.globalTx() }), 'ERR_LOG_CORRUPT');
  assert.is(r.ok, false);
  assert.ok(r.findings.some((f) => f.severity === 'damage' && f.file === 'cursors/global.lock'));
});

test('the regular lock file a consumer leaves: no finding', async () => {
  const logDir = await logWithBilling();
  writeFileSync(join(logDir, 'cursors', 'client.billing.lock'), '');
  const r = await verifyLog(logDir);
  assert.ok(r.ok);
  assert.equal(r.findings, []);
});

test.run();
