/**
 * The owner's append reads its options' dedupKey before it copies the record. A dedupKey getter that
 * calls the first share() runs while that append is under way, as a getter of its key or headers
 * does, and share() is refused there (ERR_INVALID_RECORD), the append going on unshared. It went
 * through: the append, already on the unshared path, copied its record and counted its offset on the
 * owner's own count, while the shared count (read by every handle from then on) stayed behind, so the
 * next append returned the same offset and every later offset was one below its record's. With and
 * without a dedup window.
 */
import * as assert from 'uvu/assert';
import { ErrorCode, Producer, SyncPolicy, type AppendOptions } from '../dist/index.js';
import { readRecords, suite, tempDir } from './kit.js';

const test = suite('dedup-key-getter-share');

for (const dedupWindow of [undefined, { records: 100 }]) {
  test(`share() from a dedupKey getter of the owner's first append after open is refused (dedupWindow ${JSON.stringify(dedupWindow)}); offsets stay one per record`, async () => {
    const logDir = tempDir();
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), ...(dedupWindow === undefined ? {} : { dedupWindow }) });
    assert.is(p.append('r0'), 0);
    let shared: unknown = 'not called';
    const opts = {
      get dedupKey(): string | undefined {
        if (shared === 'not called') {
          try {
            shared = p.share();
          } catch (e) {
            shared = e;
          }
        }
        return dedupWindow === undefined ? undefined : 'k1';
      },
    } as AppendOptions;
    const offsets = [p.append('x', opts)];
    // Shared from here on (now, or as the getter did): an attached handle and the owner.
    const attached = Producer.attach(p.share());
    offsets.push(attached.append('a'), p.append('y'));
    await attached.close();
    await p.flush({ signal: AbortSignal.timeout(10_000) });
    const durable = p.durableOffset;
    await p.close();
    const stored = (await readRecords(logDir)).map((r) => [r.offset, r.text]);
    assert.equal(offsets.map((o) => [o, stored[o]?.[1]]), [[1, 'x'], [2, 'a'], [3, 'y']], 'each offset returned holds its record');
    assert.ok(durable >= stored.length, `flush() covers every record (durable offset ${durable}, ${stored.length} records)`);
    assert.is((shared as { code?: string }).code, ErrorCode.INVALID_RECORD, 'share() from the getter is refused');
  });
}

test.run();
