/**
 * `tail -f` on a log directory that is removed and created again at the same path (a new log where
 * the old one was) ends with exit code 1 and ERR_IO naming the directory, as for a directory removed:
 * the consumer notices that the path names another directory (device and inode). Before, it checked
 * only that the path existed, and stayed on the removed directory for good, printing nothing more.
 */
import * as assert from 'uvu/assert';
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Producer } from '../dist/index.js';
import { logOf, suite, tempDir, waitFor } from './kit.js';
import { CliProcess, killCliProcesses } from './cli-kit.js';

const test = suite('cli tail -f: log directory replaced');
test.after(killCliProcesses);

test('tail -f ends with ERR_IO when the directory is replaced by another log', async () => {
  const logDir = await logOf(['a0', 'a1', 'a2']);
  const child = new CliProcess(['tail', logDir, '-f']);
  await waitFor(() => child.lines().length === 3, 'tail -f to print the 3 records');
  // The new log is made aside, then put in place in one rename, over the emptied old directory: the
  // path never stops naming a directory, so only its identity tells the two apart.
  const parent = tempDir();
  const aside = join(parent, 'new');
  const p = await Producer.open({ logDir: aside });
  for (let i = 0; i < 5; i++) p.append(`b${i}`);
  await p.close();
  for (const n of readdirSync(logDir)) rmSync(join(logDir, n), { recursive: true, force: true });
  renameSync(aside, logDir);
  await waitFor(() => child.exit !== null, 'tail -f to end once the directory is replaced', 5_000);
  assert.equal(child.exit, { code: 1, signal: null }, child.stderr);
  assert.match(child.stderr, 'ERR_IO');
  assert.match(child.stderr, logDir);
  assert.equal(child.lines().map((l) => l.split(' ').at(-1)), ['a0', 'a1', 'a2'], 'nothing of the new log is printed as if it followed the old one');
  rmSync(logDir, { recursive: true, force: true });
  rmSync(parent, { recursive: true, force: true });
});

test.run();
