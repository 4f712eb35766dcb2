/**
 * A pool handler module that cannot be loaded (a syntax error, a file that is no module, a throw
 * while it is imported) makes the call reject with ERR_INVALID_OPTION naming 'handler' and the
 * module, as a module without a default export does; the cursor stays where it was.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf, tempDir } from './kit.js';

const test = suite('pool handler load');

async function outcomeOf(file: string, body: string): Promise<{ code: string; option: unknown; message: string; cursor: number | null }> {
  const logDir = await logOf(10, POOL_LOG);
  const path = join(tempDir(), file);
  writeFileSync(path, body);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('mod') });
  const s = await guarded(c.nonblockingProcess(null, path, { workers: 1 }).then(
    (v) => ({ code: `resolved ${JSON.stringify(v)}`, option: null, message: '' }),
    (e: Error & { code?: string; details?: { option?: unknown } }) => ({ code: e.code ?? `uncoded ${e.name}`, option: e.details?.option, message: e.message })));
  const cursor = c.committedOffset;
  await c.close();
  assert.ok(s !== 'stuck');
  return { ...s, cursor };
}

const cases: Array<[string, string, string]> = [
  ['a module without a default export', 'nodefault.mjs', 'export const x = 1;\n'],
  ['a module with a syntax error', 'broken.mjs', 'export default function (msg {\n'],
  ['a file that is no module (unknown extension)', 'handler.txt', 'export default () => "commit";\n'],
  ['a module that throws when imported', 'throws.mjs', 'throw new Error("cannot init");\nexport default () => "commit";\n'],
];

for (const [what, file, body] of cases) {
  test(`${what}: ERR_INVALID_OPTION naming the handler module`, async () => {
    const r = await outcomeOf(file, body);
    assert.is(r.code, 'ERR_INVALID_OPTION', r.message);
    assert.is(r.option, 'handler');
    assert.ok(r.message.includes(file), r.message);
    assert.is(r.cursor, 0, 'the cursor stays');
  });
}

test('the cause is in the message: the import\'s own error', async () => {
  const r = await outcomeOf('throws.mjs', 'throw new Error("cannot init");\nexport default () => "commit";\n');
  assert.match(r.message, /cannot be loaded: cannot init/);
});

test.run();
