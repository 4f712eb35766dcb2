/**
 * A date-time without a zone is local time. One that a clock change skips (the spring-forward gap)
 * does not exist, and one that a clock change repeats (the hour after the clocks go back) is
 * ambiguous: both are usage errors (exit code 2) that ask for a zone and change nothing, never
 * another time.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { Consumer, ConsumerStyle, inspectLog } from '../dist/index.js';
import { UsageError, timeArg } from '../src/cli/common.js';
import { logOf, suite } from './kit.js';
import { CLI, killCliProcesses } from './cli-kit.js';

const test = suite('cli local time');
test.after(killCliProcesses);

/** Runs `fn` with the process's time zone set to `tz`. */
function inZone<T>(tz: string, fn: () => T): T {
  const before = process.env.TZ;
  process.env.TZ = tz;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

function usageError(text: string, pattern: RegExp): void {
  assert.throws(() => timeArg('--since', text), (e: unknown) => e instanceof UsageError && pattern.test(e.message), text);
}

test('Europe/Berlin: the spring gap does not exist, the autumn hour is ambiguous, the times around them are exact', () => {
  inZone('Europe/Berlin', () => {
    assert.is(timeArg('--since', '2026-03-29T01:59:59'), Date.UTC(2026, 2, 29, 0, 59, 59));
    assert.is(timeArg('--since', '2026-03-29T03:00'), Date.UTC(2026, 2, 29, 1, 0));
    for (const t of ['2026-03-29T02:00', '2026-03-29T02:30', '2026-03-29T02:59:59.999']) usageError(t, /does not exist in local time.*give a zone/);
    assert.is(timeArg('--since', '2026-10-25T01:59'), Date.UTC(2026, 9, 24, 23, 59));
    assert.is(timeArg('--since', '2026-10-25T03:00'), Date.UTC(2026, 9, 25, 2, 0));
    usageError('2026-10-25T02:30', /"2026-10-25T02:30" is ambiguous in local time.*2026-10-25T02:30\+02:00 or 2026-10-25T02:30\+01:00/);
    usageError('2026-10-25T02:00', /is ambiguous/);
    assert.is(timeArg('--since', '2026-10-25T02:30+01:00'), Date.UTC(2026, 9, 25, 1, 30));
    assert.is(timeArg('--since', '2026-03-29T02:30Z'), Date.UTC(2026, 2, 29, 2, 30));
    assert.is(timeArg('--since', '2026-07-01T12:00:00.250'), Date.UTC(2026, 6, 1, 10, 0, 0, 250));
  });
});

test('America/New_York: the same at 02:00 local', () => {
  inZone('America/New_York', () => {
    usageError('2026-03-08T02:30', /does not exist/);
    assert.is(timeArg('--since', '2026-03-08T03:30'), Date.UTC(2026, 2, 8, 7, 30));
    usageError('2026-11-01T01:30', /ambiguous.*-04:00 or .*-05:00/);
    assert.is(timeArg('--since', '2026-11-01T02:30'), Date.UTC(2026, 10, 1, 7, 30));
  });
});

test('cursor reset --to-time with a local time in the gap or the repeated hour: exit 2, the cursor stays', async () => {
  const logDir = await logOf(10);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(4, () => 'commit');
  await c.close();
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, TZ: 'Europe/Berlin' } });
  for (const [t, why] of [['2026-03-29T02:30', /does not exist in local time/], ['2026-10-25T02:30', /is ambiguous in local time/]] as const) {
    const r = run('cursor', 'reset', logDir, 'billing', '--to-time', t, '--json');
    assert.is(r.status, 2, `${t}: exit ${r.status} ${r.stdout}${r.stderr}`);
    assert.is(r.stdout, '', t);
    assert.match(r.stderr, why, t);
    assert.ok(r.stderr.includes('--to-time'), r.stderr);
    const cursor = (await inspectLog(logDir)).cursors.find((x) => x.id === 'billing');
    assert.is(cursor?.committedOffset, 4, `${t} moved the cursor`);
  }
  const d = run('dump', logDir, '--since', '2026-03-29T02:30', '--count', '1');
  assert.is(d.status, 2, d.stderr);
  assert.is(run('dump', logDir, '--since', '2026-10-25T02:30+01:00', '--count', '1').status, 0);
});

test.run();
