/**
 * `reactive-log unlock` and unlockLog: a lock a live handle holds is reported and never touched; a
 * lock file left by a SIGKILLed producer is reported as leftover with its last owner, kept by
 * --dry-run (the directory byte-identical) and removed otherwise, after which the log opens as before.
 */
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, unlockLog } from '../dist/index.js';
import { suite, digestDir, logOf, readTexts } from './kit.js';
import { Child } from './child.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('unlock');
test.after(killCliProcesses);

test('held locks are reported with their holder and left alone', async () => {
  const logDir = await logOf(['a', 'b']);
  const p = await Producer.open({ logDir });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  const before = digestDir(logDir);
  const report = await unlockLog(logDir);
  assert.equal(report.map((r) => [r.file, r.state, r.owner?.pid, r.removed]), [
    ['producer.lock', 'held', process.pid, false],
    ['cursors/client.billing.lock', 'held', process.pid, false],
  ]);
  const r = cli('unlock', logDir);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`producer.lock  held by pid ${process.pid}`));
  assert.is(digestDir(logDir), before, 'nothing changed');
  p.append('c');
  await p.close();
  await c.close();
  assert.equal(await readTexts(logDir), ['a', 'b', 'c']);
});

test('a lock file left by a SIGKILLed producer: reported, kept by --dry-run, removed by unlock', async () => {
  const logDir = await logOf(['a']);
  const child = Child.fork('ipc-producer.mjs', [logDir], { execArgv: [] });
  const opened = await child.next('open');
  child.proc.kill('SIGKILL');
  await child.exited;
  assert.ok(existsSync(join(logDir, 'producer.lock')), 'the killed producer left its lock file');
  const before = digestDir(logDir);
  const dry = cli('unlock', logDir, '--dry-run', '--json');
  assert.is(dry.status, 0, dry.stderr);
  assert.equal(JSON.parse(dry.stdout), [{ file: 'producer.lock', state: 'leftover', owner: { pid: opened.pid, host: JSON.parse(dry.stdout)[0].owner.host }, removed: false }]);
  assert.is(digestDir(logDir), before, '--dry-run changes nothing');
  const real = cli('unlock', logDir);
  assert.is(real.status, 0, real.stderr);
  assert.match(real.stdout, new RegExp(`producer.lock  leftover \\(last owner pid ${String(opened.pid)} .*, gone\\): removed`));
  assert.not.ok(existsSync(join(logDir, 'producer.lock')));
  assert.is(cli('unlock', logDir).stdout, 'no lock files\n');
  const p = await Producer.open({ logDir });
  await p.close();
  assert.equal(await readTexts(logDir), ['a']);
});

test('bad usage exits 2 and changes nothing', async () => {
  const logDir = await logOf(['a']);
  const before = digestDir(logDir);
  for (const args of [[], [logDir, 'extra'], [logDir, '--force'], [join(logDir, 'nothing-here')]]) {
    const r = cli('unlock', ...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  assert.is(digestDir(logDir), before);
});

test.run();
