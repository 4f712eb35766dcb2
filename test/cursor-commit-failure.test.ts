/**
 * A cursor commit that keeps failing (its fdatasync, or its slot write; the call's last commit as it
 * ends fails too) rejects the processing call with ERR_IO or ERR_DISK_FULL. The record was answered 'commit', so it stays completed in memory, with its state: the
 * consumer goes on with the next record, and the next commit writes the cursor past both. Every record
 * is applied to the state committed with the cursor exactly once, and a reopen finds the two agreeing.
 */
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import type { Handler } from '../dist/index.js';
import { logOf, rejectsWith, suite, tempDir } from './kit.js';
import { clearFaults, setFaults, type FaultRule } from './faults.js';

const test = suite('cursor-commit-failure');

/** Appends each record's offset to the state; what it saw goes to `seen`. */
function appender(seen: string[]): Handler {
  return (msg, ctx) => {
    const s = ctx.state === null ? '' : Buffer.from(ctx.state).toString();
    seen.push(`${msg.offset}:${s}`);
    ctx.setState(`${s}${msg.offset}`);
    return 'commit';
  };
}

const faults: ReadonlyArray<[string, FaultRule]> = [
  ['fdatasync', { op: 'fdatasync', path: 'client\\.t\\.cursor$', thread: 'main', nth: 1, persistent: true, effect: { errno: 'EIO' } }],
  ['slot write', { op: 'writev', path: 'client\\.t\\.cursor$', thread: 'main', nth: 1, persistent: true, effect: { errno: 'ENOSPC' } }],
];

for (const [what, rule] of faults) {
  for (const end of ['close', 'destroy'] as const) {
    test(`a failed ${what} of a commit, then ${end}: each record applied once, cursor and state agree`, async () => {
      const logDir = await logOf(5);
      const arm = join(tempDir(), 'arm');
      const seen: string[] = [];
      setFaults({ arm, rules: [rule] });
      try {
        const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('t') });
        writeFileSync(arm, '');
        const e = await rejectsWith(c.nonblockingProcess(null, appender(seen)), what === 'fdatasync' ? 'ERR_IO' : 'ERR_DISK_FULL');
        assert.match(e.message, /committing cursor/);
        assert.is(c.committedOffset, 0, 'the failed commit moved the durable cursor');
        assert.is(c.nextOffset, 1, 'record 0 was answered commit');
        clearFaults();
        if (end === 'close') {
          assert.is((await c.nonblockingProcess(null, appender(seen))).committed, 4);
          assert.is(c.committedOffset, 5);
          await c.close();
        } else {
          await c.destroy();
        }
      } finally {
        clearFaults();
      }
      const c2 = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('t') });
      try {
        const at = c2.committedOffset!;
        assert.is(Buffer.from(c2.state ?? new Uint8Array()).toString(), '01234'.slice(0, at), 'the state disagrees with the cursor');
        await c2.nonblockingProcess(null, appender(seen));
        assert.is(Buffer.from(c2.state ?? new Uint8Array()).toString(), '01234');
      } finally {
        await c2.close();
      }
      // Nothing skipped, and a record seen twice only across the reopen, with the state rolled back to before it.
      assert.equal([...new Set(seen.map((s) => Number(s.split(':')[0])))], [0, 1, 2, 3, 4], seen.join(' '));
      for (const s of seen) {
        const [offset, state] = s.split(':');
        assert.is(state, '01234'.slice(0, Number(offset)), `record ${offset} saw state ${state}`);
      }
    });
  }
}

test.run();
