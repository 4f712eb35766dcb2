/**
 * With no producer running, a producer.lock a crashed producer left with "recovered": true naming
 * another host (whose liveness this host cannot check) is no proof for readers: they find the log's
 * end by walking from the last index entry at or below durable.offset, not at the last index entry,
 * which lies past a torn tail the next producer's recovery cuts.
 */
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { inspectLog } from '../dist/index.js';
import { suite } from './kit.js';
import { powerLossLog } from './torn-tail-kit.js';

const test = suite('stale-lock-no-producer');

test('no producer: a stale cross-host "recovered" lock file does not move the end past a torn tail', async () => {
  const { logDir, durable } = await powerLossLog();
  writeFileSync(join(logDir, 'producer.lock'), JSON.stringify({ pid: 4_000_000, start: '1', host: `${hostname()}-gone`, thread: 0, recovered: true }));
  assert.is((await inspectLog(logDir)).nextOffset, durable);
});

const ownStart = readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
const deadOwners: Array<[string, Record<string, unknown>]> = [
  ['a pid of this host that no process has', { pid: 4_000_000, start: '1', host: hostname(), thread: 0, recovered: true }],
  ['a pid of this host now used by another process (another start time)', { pid: process.pid, start: `${ownStart}0`, host: hostname(), thread: 0, recovered: true }],
];

for (const [what, owner] of deadOwners) {
  test(`no producer: a stale "recovered" lock file naming ${what} does not move the end past a torn tail`, async () => {
    const { logDir, durable } = await powerLossLog();
    writeFileSync(join(logDir, 'producer.lock'), JSON.stringify(owner));
    assert.is((await inspectLog(logDir)).nextOffset, durable);
  });
}

test.run();
