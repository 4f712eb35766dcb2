/**
 * inspectLog reads the end of the log's records before it reads the cursor files. A consumer that
 * commits meanwhile (records appended and processed after the end was read) leaves a cursor past
 * that end: it is not past the end of the log, and its consumer opens. inspectLog marked it
 * `pastEnd` ("records it committed are lost; reset it or run repair"), a false alarm. As the
 * consumer's own open does (consumer-start.ts), the end is read again before a cursor is judged past it.
 */
import * as assert from 'uvu/assert';
import { cpSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { inspectWith } from '../src/admin/inspect.js';
import { fileIO } from '../src/storage/file-io.js';
import { suite, tempDir } from './kit.js';

const test = suite('inspect-past-end-race');

async function commitAll(logDir: string): Promise<void> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(null, () => 'commit');
  await c.close();
}

test('a cursor committed after the end was read is not past the end', async () => {
  const root = tempDir();
  const logDir = join(root, 'log');
  const p = await Producer.open({ logDir });
  for (let i = 0; i < 3; i++) p.append(`a${i}`);
  await p.close();
  await commitAll(logDir);
  const before = join(root, 'before');
  cpSync(logDir, before, { recursive: true });
  // The log as it is once 2 more records were appended and the consumer committed them.
  const p2 = await Producer.open({ logDir });
  for (let i = 0; i < 2; i++) p2.append(`b${i}`);
  await p2.close();
  await commitAll(logDir);
  const after = join(root, 'after');
  cpSync(logDir, after, { recursive: true });
  rmSync(logDir, { recursive: true });
  cpSync(before, logDir, { recursive: true });

  const real = await fileIO();
  let moved = false;
  const io = {
    ...real,
    open(path: string, flags: Parameters<typeof real.open>[1], mode?: number): number {
      // The first read of the cursor file: the producer and the consumer went on just before.
      if (!moved && path.includes('billing')) {
        moved = true;
        cpSync(after, logDir, { recursive: true, force: true });
      }
      return real.open(path, flags, mode);
    },
  };
  const info = inspectWith(io, realpathSync(logDir));
  assert.ok(moved, 'the cursor file was read');
  const billing = info.cursors.find((c) => c.id === 'billing')!;
  assert.is(billing.committedOffset, 5);
  assert.is(billing.pastEnd, false, 'the cursor is at the end of the log, not past it');
  rmSync(root, { recursive: true, force: true });
});

test.run();
