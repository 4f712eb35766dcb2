/**
 * The writer fails (ENOSPC on a write): append() throws at once (the state in shared memory) and the
 * application calls destroy() in the same turn, before the writer's `failed` message (with the system
 * error's details) is delivered. The details still reach producer.error, producer.failed and the one
 * reactive-log:writer-failure event, by the time destroy() resolves.
 */
import * as assert from 'uvu/assert';
import diagnosticsChannel from 'node:diagnostics_channel';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { Producer, SyncPolicy, type LogError } from '../dist/index.js';
import { suite, tempDir } from './kit.js';
import { withFaults } from './faults.js';

const test = suite('destroy after a writer failure');

test('destroy() in the turn append() threw: producer.error, failed and the event carry the writer\'s details', async () => {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  const plan = { rules: [{ op: 'writev' as const, path: '\\.seg$', thread: 'writer' as const, nth: 1, persistent: true, effect: { errno: 'ENOSPC' } }], arm };
  const p = await withFaults(plan, () => Producer.open({ logDir, syncPolicy: SyncPolicy.never() }));
  const events: LogError[] = [];
  const onFail = (m: unknown): void => void events.push((m as { error: LogError }).error);
  diagnosticsChannel.subscribe('reactive-log:writer-failure', onFail);
  try {
    writeFileSync(arm, '');
    let thrown: LogError | null = null;
    const until = Date.now() + 10_000;
    while (thrown === null && Date.now() < until) { // synchronous: no message is delivered meanwhile
      try {
        p.append('x');
      } catch (e) {
        thrown = e as LogError;
      }
    }
    assert.is(thrown?.code, 'ERR_DISK_FULL');
    await p.destroy();
    const failed = await p.failed; // settled by destroy's end
    for (const [what, err] of [['producer.error', p.error], ['producer.failed', failed], ['the event', events[0]]] as const) {
      console.log(`  ${what}: ${err?.code} "${err?.message}" ${JSON.stringify(err?.details)}`);
      assert.is(err?.code, 'ERR_DISK_FULL', what);
      assert.match(err!.message, 'ENOSPC', what);
      assert.equal(err!.details, { syscallCode: 'ENOSPC' }, what);
    }
    assert.is(failed, p.error, 'producer.failed resolves with producer.error');
    assert.is(events.length, 1, 'one writer-failure event');
  } finally {
    diagnosticsChannel.unsubscribe('reactive-log:writer-failure', onFail);
  }
});

test.run();
