/**
 * lagThreshold's watch after a lag check that fails: an I/O error measuring the lag (here EIO listing
 * the log directory) is reported once as the process warning RL_LAG_CHECK_FAILED, and the watch goes
 * on: the next check that works publishes reactive-log:lag as usual. Only the consumer's close ends it.
 */
import * as assert from 'uvu/assert';
import diagnosticsChannel from 'node:diagnostics_channel';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { suite, tempDir, throwsWith, waitFor } from './kit.js';
import { clearFaults, readTrace, setFaults } from './faults.js';

const test = suite('lag watch: a failed lag check');

interface Seen { events: { above: boolean; lag: { records: number } }[]; warnings: Error[] }

/**
 * A clientTx consumer with lagThreshold { records: 10 } whose main-thread readdirs fail with EIO from
 * the moment `run` arms the plan (persistent or once); `run` gets what was published and warned.
 */
async function withFailingChecks(persistent: boolean, run: (arm: () => void, fired: () => number, p: Producer, c: Consumer, seen: Seen) => Promise<void>): Promise<void> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  const seen: Seen = { events: [], warnings: [] };
  const onLag = (m: unknown): void => void seen.events.push(m as Seen['events'][number]);
  const onWarning = (w: Error): void => {
    if ((w as { code?: string }).code === 'RL_LAG_CHECK_FAILED') seen.warnings.push(w);
  };
  diagnosticsChannel.subscribe('reactive-log:lag', onLag);
  process.on('warning', onWarning);
  const armFile = join(tempDir(), 'arm');
  const trace = join(tempDir(), 'trace');
  setFaults({ rules: [{ op: 'readdir', thread: 'main', nth: 1, persistent, effect: { errno: 'EIO' } }], arm: armFile, trace });
  let c: Consumer | null = null;
  try {
    c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('watched'), lagThreshold: { records: 10 } });
    await run(() => writeFileSync(armFile, ''), () => readTrace(trace).filter((l) => l.fired).length, p, c, seen);
  } finally {
    clearFaults();
    process.off('warning', onWarning);
    diagnosticsChannel.unsubscribe('reactive-log:lag', onLag);
    await c?.close();
    await p.close();
  }
}

test('one EIO in a lag check: a warning, and the next checks publish reactive-log:lag', async () => {
  await withFailingChecks(false, async (arm, fired, p, c, seen) => {
    arm();
    await waitFor(() => fired() === 1, 'a lag check meets the EIO');
    clearFaults();
    for (let i = 0; i < 100; i++) p.append(`r${i}`);
    await p.flush();
    await waitFor(() => seen.events.some((e) => e.above), 'reactive-log:lag with above: true');
    assert.ok(c.lag().records > 10);
    assert.is(seen.warnings.length, 1, 'one RL_LAG_CHECK_FAILED warning');
    assert.match(seen.warnings[0]!.message, /ERR_IO: .*EIO/);
    assert.match(seen.warnings[0]!.message, /watched/);
  });
});

test('checks failing with the same error several times in a row warn once; the watch publishes once they work', async () => {
  await withFailingChecks(true, async (arm, fired, p, c, seen) => {
    for (let i = 0; i < 100; i++) p.append(`r${i}`);
    await p.flush();
    arm();
    await waitFor(() => fired() >= 3, 'three lag checks meet the EIO');
    assert.equal(seen.events, [], 'no event while every check fails');
    clearFaults();
    await waitFor(() => seen.events.some((e) => e.above), 'reactive-log:lag with above: true');
    assert.is(seen.warnings.length, 1, seen.warnings.map((w) => w.message).join('\n'));
    assert.is(c.lag().records, 100);
  });
});

test('consumer.lag() on a failed read of the log directory is ERR_IO, not a plain Error', async () => {
  await withFailingChecks(false, async (arm, _fired, _p, c) => {
    arm();
    throwsWith(() => c.lag(), 'ERR_IO');
    assert.is(c.lag().records, 0, 'the next call works');
  });
});

test.run();
