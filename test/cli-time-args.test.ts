/**
 * Options that take a time (`dump --since`, `cursor reset --to-time`) accept ms since the epoch and
 * ISO 8601 dates with an optional time and zone, read exactly; a date or time that does not exist
 * (February 31, April 31, 24:00) or trailing text is a usage error (exit code 2) that changes nothing,
 * never another day.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, inspectLog } from '../dist/index.js';
import { UsageError, timeArg } from '../src/cli/common.js';
import { logOf, suite } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('cli time args');
test.after(killCliProcesses);

test('the accepted forms and what they mean', () => {
  const local = (y: number, mo: number, d: number, h: number, mi: number, s = 0, ms = 0): number => new Date(y, mo - 1, d, h, mi, s, ms).getTime();
  const cases: Array<[string, number]> = [
    ['1796320800000', 1796320800000],
    ['2026-12-03', Date.UTC(2026, 11, 3)],
    ['2028-02-29', Date.UTC(2028, 1, 29)],
    ['2000-02-29', Date.UTC(2000, 1, 29)],
    ['2026-12-03T18:00Z', Date.UTC(2026, 11, 3, 18)],
    ['2026-12-03T18:00:05Z', Date.UTC(2026, 11, 3, 18, 0, 5)],
    ['2026-12-03T18:00:05.25Z', Date.UTC(2026, 11, 3, 18, 0, 5, 250)],
    ['2026-12-03T18:00:05.123456Z', Date.UTC(2026, 11, 3, 18, 0, 5, 124)],
    ['2026-12-03T18:00:05.123000Z', Date.UTC(2026, 11, 3, 18, 0, 5, 123)],
    ['2026-12-03T18:00:59.9999Z', Date.UTC(2026, 11, 3, 18, 1, 0, 0)],
    ['2026-12-03T19:00+01:00', Date.UTC(2026, 11, 3, 18)],
    ['2026-12-03T16:30-01:30', Date.UTC(2026, 11, 3, 18)],
    ['2026-12-31T23:59:59Z', Date.UTC(2026, 11, 31, 23, 59, 59)],
    ['2026-12-03T18:00', local(2026, 12, 3, 18, 0)],
    ['2026-12-03T18:00:07.5', local(2026, 12, 3, 18, 0, 7, 500)],
  ];
  for (const [text, ms] of cases) assert.is(timeArg('--since', text), ms, text);
});

test('dates and times that do not exist, and other text, are usage errors', () => {
  const bad = [
    '2026-02-31', '2026-02-29', '1900-02-29', '2026-04-31', '2026-13-01', '2026-00-10', '2026-01-00', '2026-01-32',
    '2026-12-03T24:00Z', '2026-12-03T23:60Z', '2026-12-03T23:59:60Z', '2026-12-03T18:00Z junk', '2026-12-03junk',
    '2026-12-03T18Z', '2026-12-03T18:00+24:00', '2026-12-03T18:00+0100', '2026-12-03Z', '2026-1-3', 'yesterday', '-5', '',
  ];
  for (const text of bad) assert.throws(() => timeArg('--since', text), (e: unknown) => e instanceof UsageError, text);
});

test('cursor reset --to-time with a day that does not exist: exit 2, the cursor stays', async () => {
  const logDir = await logOf(10);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(4, () => 'commit');
  await c.close();
  for (const t of ['2026-04-31', '2026-02-31T00:00:00Z', '2026-12-03T24:00Z', '2026-12-03T12:00:00Zjunk']) {
    const r = cli('cursor', 'reset', logDir, 'billing', '--to-time', t);
    assert.is(r.status, 2, `${t}: ${r.stderr}`);
    assert.match(r.stderr, /--to-time takes ms since the epoch or an ISO 8601 time/, t);
    const cursor = (await inspectLog(logDir)).cursors.find((x) => x.id === 'billing');
    assert.is(cursor?.committedOffset, 4, `${t} moved the cursor`);
  }
  const r = cli('dump', logDir, '--since', '2026-02-31', '--count', '1');
  assert.is(r.status, 2, r.stderr);
  assert.is(r.stdout, '');
  assert.is(cli('dump', logDir, '--since', '2000-02-29T00:00:00.000+00:00', '--count', '1').status, 0);
});

test.run();
