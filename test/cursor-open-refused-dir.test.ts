/**
 * The first transactional open of a log creates cursors/. An open refused because no reader can take
 * the log at its start (a segment of a newer format, a damaged segment header) leaves the log
 * directory as it was: no cursors/ folder, no cursor file, no lock file.
 */
import * as assert from 'uvu/assert';
import { openSync, readdirSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { digestDir, rejectsWith, suite, tempDir } from './kit.js';
import { setSegmentVersion } from './read-kit.js';

const test = suite('cursor-open-refused-dir');

/** A closed log of 60 records over several segments, never read by a transactional consumer. */
async function segmentedLog(): Promise<{ logDir: string; oldest: string }> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024 });
  for (let i = 0; i < 60; i++) p.append(`record ${i} ${'x'.repeat(40)}`);
  await p.close();
  const segs = readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort();
  assert.ok(segs.length >= 2, `${segs.length} segments`);
  return { logDir, oldest: join(logDir, segs[0]!) };
}

const styles = [['globalTx', ConsumerStyle.globalTx()], ['clientTx', ConsumerStyle.clientTx('first')]] as const;

for (const [name, style] of styles) {
  test(`${name}: an oldest segment of a newer format refuses the first open, and nothing is created`, async () => {
    const { logDir, oldest } = await segmentedLog();
    setSegmentVersion(oldest, 3);
    const before = digestDir(logDir);
    await rejectsWith(Consumer.open({ logDir, style }), 'ERR_UNSUPPORTED_FORMAT');
    assert.is(digestDir(logDir), before, `the refused open changed the directory: ${readdirSync(logDir).join(', ')}`);
  });

  test(`${name}: a damaged oldest segment header refuses the first open, and nothing is created`, async () => {
    const { logDir, oldest } = await segmentedLog();
    const fd = openSync(oldest, 'r+');
    writeSync(fd, Buffer.from('garbage!'), 0, 8, 0);
    closeSync(fd);
    const before = digestDir(logDir);
    await rejectsWith(Consumer.open({ logDir, style }), 'ERR_LOG_CORRUPT');
    assert.is(digestDir(logDir), before, `the refused open changed the directory: ${readdirSync(logDir).join(', ')}`);
  });
}

test.run();
