/**
 * A producer.lock a crashed producer left says `"recovered": true`. The next Producer.open takes the
 * kernel lock and runs its recovery before it writes its own owner information: meanwhile readers in
 * other processes read the file to learn whether a live producer finished its recovery
 * (recoveredOwnerLive). A stale file whose owner cannot be ruled out as alive (a host of another name:
 * a container recreated on the same volume; or a pid and start time that name a live process) must not
 * let them take the last index entry as the log's end while a torn tail the recovery is about to cut
 * still lies before it.
 */
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, Whence, inspectLog, unlockLog } from '../dist/index.js';
import { suite, waitFor } from './kit.js';
import { powerLossLog } from './torn-tail-kit.js';
import { clearFaults, setFaults } from './faults.js';

const test = suite('recovering-stale-lock');


const ownStart = readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
const staleOwners: Array<[string, Record<string, unknown>]> = [
  ['a host of another name (a container recreated on the volume)', { pid: 4_000_000, start: '1', host: `${hostname()}-gone`, thread: 0, recovered: true }],
  ['a pid and start time naming a live process (the opener itself)', { pid: process.pid, start: ownStart, host: hostname(), thread: 0, recovered: true }],
];

for (const [what, owner] of staleOwners) {
  test(`while the next producer recovers, readers do not trust "recovered" of ${what}`, async () => {
    const { logDir, durable } = await powerLossLog();
    writeFileSync(join(logDir, 'producer.lock'), JSON.stringify(owner));
    // The writer's recovery held up, so that the readers below meet the directory before its cut.
    setFaults({ rules: [{ op: '*', thread: 'writer', nth: 1, effect: { delayMs: 3000 } }] });
    let opening: Promise<Producer>;
    try {
      opening = Producer.open({ logDir });
      await waitFor(async () => (await unlockLog(logDir, { dryRun: true }))[0]?.state === 'held', 'the lock taken');
    } finally {
      clearFaults();
    }
    const during = await inspectLog(logDir);
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.latest()) });
    const p = await opening;
    try {
      assert.is(p.nextOffset, durable, 'recovery cuts at the torn frame');
      for (let i = 0; i < 5; i++) p.append(`after-${i}`);
      await p.flush();
      const got: number[] = [];
      await c.nonblockingProcess(100, (m) => { got.push(m.offset); return 'commit'; });
      assert.equal(got, [0, 1, 2, 3, 4].map((i) => durable + i), 'a consumer opened at latest during the recovery gets every record appended after it');
      assert.is(during.nextOffset, durable, 'inspectLog during the recovery: the log ends where recovery cuts it');
    } finally {
      await c.close();
      await p.close();
    }
  });
}

test.run();
