/**
 * Nonblocking reads of a log whose producer runs in another process (the end comes from the files):
 * nonblockingProcess() and iter() hand out the records in the log when they start, then end, for
 * written visibility (nonTx's default) and durable visibility (clientTx) alike. Records another
 * process appends while they run are left for the next call.
 */
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { Consumer, ConsumerStyle, Whence } from '../dist/index.js';
import { suite, logOf } from './kit.js';

const test = suite('nonblocking-end-files');
const dist = new URL('../dist/index.js', import.meta.url).href;
const late = ['late-0', 'late-1', 'late-2'];

/** Appends `late` to `logDir` from another process (a producer that opens, appends, closes); returns when it exited. */
function appendElsewhere(logDir: string): void {
  const script = `const { Producer } = await import(${JSON.stringify(dist)});
const p = await Producer.open({ logDir: ${JSON.stringify(logDir)} });
for (const t of ${JSON.stringify(late)}) p.append(t);
await p.close();`;
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit', timeout: 20_000 });
}

const text = (data: Uint8Array): string => Buffer.from(data).toString();

for (const [name, style] of [['nonTx (written)', ConsumerStyle.nonTx(Whence.oldest())], ['clientTx (durable)', ConsumerStyle.clientTx('c')]] as const) {
  test(`nonblockingProcess, ${name}: records appended by another process during the call come with the next call`, async () => {
    const logDir = await logOf(3);
    const c = await Consumer.open({ logDir, style });
    try {
      const seen: string[] = [];
      const s = await c.nonblockingProcess(null, (msg) => {
        seen.push(text(msg.data));
        if (msg.offset === 0) appendElsewhere(logDir);
        return 'commit';
      });
      assert.equal(seen, ['rec-0', 'rec-1', 'rec-2'], `the call started with 3 records (${JSON.stringify(s)})`);
      seen.length = 0;
      await c.nonblockingProcess(null, (msg) => (seen.push(text(msg.data)), 'commit'));
      assert.equal(seen, late, 'the next call');
    } finally {
      await c.close();
    }
  });
}

test('iter(), nonTx (written): records appended by another process during the loop come with the next loop', async () => {
  const logDir = await logOf(3);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const seen: string[] = [];
    for (const msg of c.iter()) {
      seen.push(text(msg.data));
      if (msg.offset === 0) appendElsewhere(logDir);
    }
    assert.equal(seen, ['rec-0', 'rec-1', 'rec-2'], 'the loop started with 3 records');
    assert.equal([...c.iter()].map((m) => text(m.data)), late, 'the next loop');
  } finally {
    await c.close();
  }
});

test.run();
