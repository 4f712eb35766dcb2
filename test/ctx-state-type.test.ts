/**
 * ctx.state and consumer.state are a plain Uint8Array of the reading thread's realm (never a Buffer,
 * never another realm's array), however the state was set (a string, a Buffer, a Uint8Array, one of a
 * vm context) and wherever it comes from: staged in this process, read back from the cursor file, or
 * handed to a pool worker.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { logOf, suite, tempDir } from './kit.js';

const test = suite('ctx-state-type');

/** What `v` is: 'null', 'Buffer', 'Uint8Array' (this realm's, plain) or 'other <constructor name>'. */
function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Buffer.isBuffer(v)) return 'Buffer';
  if (Object.getPrototypeOf(v) === Uint8Array.prototype) return 'Uint8Array';
  return `other ${(v as { constructor?: { name?: string } }).constructor?.name ?? '?'}`;
}

const setters: Array<[string, () => Uint8Array | string]> = [
  ['a string', () => 'abc'],
  ['a Buffer', () => Buffer.from('abc')],
  ['a Uint8Array', () => new Uint8Array([97, 98, 99])],
  ['a Uint8Array of a vm context', () => runInNewContext('new Uint8Array([97, 98, 99])') as Uint8Array],
];

for (const [name, value] of setters) {
  test(`state set from ${name}: ctx.state and consumer.state are a plain Uint8Array, before and after a reopen`, async () => {
    const logDir = await logOf(3);
    const seen: string[] = [];
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('t') });
    try {
      await c.nonblockingProcess(2, (m, ctx) => {
        if (m.offset === 0) ctx.setState(value());
        else seen.push(kind(ctx.state));
        return 'commit';
      });
      seen.push(kind(c.state));
    } finally {
      await c.close();
    }
    const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('t') });
    try {
      seen.push(kind(again.state));
      await again.nonblockingProcess(1, (_m, ctx) => { seen.push(kind(ctx.state)); return 'commit'; });
      assert.is(Buffer.from(again.state ?? []).toString(), 'abc');
    } finally {
      await again.close();
    }
    assert.equal(seen, ['Uint8Array', 'Uint8Array', 'Uint8Array', 'Uint8Array']);
  });
}

test('state set from a string: ctx.state in a pool worker is a plain Uint8Array', async () => {
  const logDir = await logOf(['set', 'a', 'b'], POOL_LOG);
  const dir = tempDir();
  const path = join(dir, 'kind.mjs');
  writeFileSync(path, [
    `import { writeFileSync } from 'node:fs';`,
    `export default (msg, ctx) => {`,
    `  const v = ctx.state;`,
    `  const k = v === null ? 'null' : Buffer.isBuffer(v) ? 'Buffer' : Object.getPrototypeOf(v) === Uint8Array.prototype ? 'Uint8Array' : 'other';`,
    `  writeFileSync(${JSON.stringify(dir)} + '/kind-' + msg.offset, k);`,
    `  return 'commit';`,
    `};`,
  ].join('\n'));
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('p') });
  try {
    await c.nonblockingProcess(1, (_m, ctx) => { ctx.setState('abc'); return 'commit'; });
    assert.equal(await guarded(c.nonblockingProcess(null, path, { workers: 2, batchRecords: 1 })), { committed: 2, skipped: 0, retried: 0, stoppedBy: 'end' });
  } finally {
    await c.close();
  }
  assert.equal([1, 2].map((o) => readFileSync(join(dir, `kind-${o}`), 'utf8')), ['Uint8Array', 'Uint8Array']);
});

test.run();
