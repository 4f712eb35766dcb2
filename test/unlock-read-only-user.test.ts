/**
 * `unlock --dry-run` and `repair --dry-run` run by a user who may read the log but not write to it (an
 * operator beside a service that owns the files): a lock a live handle holds is reported as held, and a
 * dry run of repair is refused while a producer or a consumer holds the log, as for the files' owner.
 * They never report a live owner's lock as a leftover that would be removed. Runs the CLI as `nobody`
 * (uid 65534), so it needs root; otherwise it is skipped.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { digestDir, logOf, suite } from './kit.js';
import { CLI, type CliResult } from './cli-kit.js';

const test = suite('unlock-read-only-user');
const NOBODY = 65534;
const root = process.getuid?.() === 0;

/** Runs `reactive-log ...args` as the user nobody, who can read the log's files but not write them. */
function cliAsNobody(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, uid: NOBODY, gid: NOBODY });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A closed log of two records in a directory anyone may read (mkdtemp makes it 0700). */
async function readableLog(): Promise<string> {
  const logDir = await logOf(['a', 'b']);
  chmodSync(logDir, 0o755);
  return logDir;
}

/**
 * Why the cases cannot run here, or null: they need root, and `nobody` must be able to run this
 * checkout's CLI (every directory on its path readable by others: a checkout under /root is not).
 */
async function cannotRun(): Promise<string | null> {
  if (!root) return 'needs root to run the CLI as another user';
  const probe = cliAsNobody('info', await readableLog());
  return probe.status === 0 ? null : `the user nobody cannot run ${CLI} (exit ${probe.status}: ${probe.stderr.trim().split('\n')[0] ?? ''})`;
}
let skip: string | null = null;
test.before(async () => {
  skip = await cannotRun();
  if (skip !== null) console.log(`unlock-read-only-user: SKIPPED: ${skip}`);
});

test('a live producer and consumer: unlock --dry-run reports their locks as held', async () => {
  if (skip !== null) return;
  const logDir = await readableLog();
  const p = await Producer.open({ logDir });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  try {
    const before = digestDir(logDir);
    const r = cliAsNobody('unlock', logDir, '--dry-run', '--json');
    assert.is(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Array<{ file: string; state: string; removed: boolean }>;
    assert.equal(report.map((x) => [x.file, x.state, x.removed]), [
      ['producer.lock', 'held', false],
      ['cursors/client.billing.lock', 'held', false],
    ]);
    assert.is(digestDir(logDir), before, 'nothing changed');
  } finally {
    await c.close();
    await p.close();
  }
});

test('repair --dry-run is refused while a producer holds the log', async () => {
  if (skip !== null) return;
  const logDir = await readableLog();
  const p = await Producer.open({ logDir });
  try {
    const r = cliAsNobody('repair', logDir, '--dry-run');
    assert.is(r.status, 1, `${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /\(ERR_LOG_LOCKED\)$/m);
  } finally {
    await p.close();
  }
});

test('repair --dry-run of a damaged log is refused while a consumer holds a cursor', async () => {
  if (skip !== null) return;
  const logDir = await readableLog();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  // A byte of the first record changed: its frame fails its checksum, and repair would cut there.
  const seg = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort()[0]!;
  const fd = openSync(join(logDir, seg), 'r+');
  writeSync(fd, Buffer.from([0x5a]), 0, 1, 32 + 48);
  closeSync(fd);
  try {
    const r = cliAsNobody('repair', logDir, '--dry-run');
    assert.is(r.status, 1, `${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /\(ERR_CURSOR_LOCKED\)$/m);
  } finally {
    await c.close();
  }
});

test.run();
