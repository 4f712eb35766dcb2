/**
 * A consumer opened in a process where no producer of the log runs, before any producer recovered it,
 * meets a torn tail whose unfinished record holds a whole segment file of another log
 * (archived-segment-kit.ts). The frames stored in that record are stamped before the log's last
 * valid frame: they prove nothing about the torn bytes, as recovery judges (recovery-archived-segment).
 * The consumer sees the end of the valid records there (and waits for more) rather than
 * ERR_LOG_CORRUPT, and leaves the directory untouched.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, Whence, type Message } from '../dist/index.js';
import { archivedSegment, tornTailCarrying } from './archived-segment-kit.js';
import { firstAtTime, listing, suite, waitFor } from './kit.js';

const test = suite('reader-archived-segment');

async function readAll(logDir: string, whence = Whence.oldest()): Promise<{ offsets: number[]; code: string | null }> {
  const offsets: number[] = [];
  try {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(whence) });
    try {
      await c.nonblockingProcess(null, (m) => { offsets.push(m.offset); return 'commit'; });
    } finally {
      await c.close();
    }
  } catch (e) {
    return { offsets, code: `${(e as { code?: string }).code}: ${(e as Error).message}` };
  }
  return { offsets, code: null };
}

test('a nonblocking read ends at the torn record holding an archived segment; the files stay as they were', async () => {
  const dir = await tornTailCarrying(await archivedSegment());
  const before = listing(dir);
  assert.equal(await readAll(dir), { offsets: [0], code: null }, 'from the oldest');
  assert.equal(await readAll(dir, Whence.latest()), { offsets: [], code: null }, 'from the latest (the bounds walk)');
  assert.equal(await readAll(dir, Whence.position(1)), { offsets: [], code: null }, 'from the torn record');
  assert.is(await firstAtTime(dir, 0), 0, 'a seek by time finds the first record');
  assert.equal(listing(dir), before, 'the readers changed nothing');
});

test('a blocking consumer waits at that end and gets the record the next producer appends after cutting it', async () => {
  const dir = await tornTailCarrying(await archivedSegment());
  const c = await Consumer.open({ logDir: dir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const got: Message[] = [];
  let failed: unknown = null;
  const done = c.blockingProcess(2, (m) => { got.push({ ...m, data: Buffer.from(m.data) }); return 'commit'; })
    .catch((e: unknown) => { failed = e; });
  try {
    await waitFor(() => got.length === 1 || failed !== null, 'the first record');
    assert.is(failed, null, `no error at the torn tail: ${String(failed)}`);
    const p = await Producer.open({ logDir: dir });
    assert.is(p.recovery.truncated?.position !== undefined, true, 'recovery cuts the torn tail');
    p.append('after');
    await p.flush();
    await p.close();
    await waitFor(() => got.length === 2 || failed !== null, 'the record appended after the cut');
    await done;
    assert.is(failed, null, `no error: ${String(failed)}`);
    assert.equal(got.map((m) => `${m.offset}:${Buffer.from(m.data).toString()}`), ['0:first', '1:after']);
  } finally {
    await c.close();
    await done;
  }
});

test.run();
