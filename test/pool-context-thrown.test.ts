/**
 * A pool handler sees the context a handler in the consumer's thread sees, and its Error reaches the
 * caller as such. The pool's context had the round's state bytes as an own field `base` (shown by
 * Object.keys, a spread and JSON.stringify, setState not an own property), one buffer for the
 * lane's records: a handler writing into it changed `ctx.state` for every later record. And an Error
 * it threw came back as a plain Error with its message and code only: no class, name, cause or
 * fields (a handler moved into a pool branched otherwise on them).
 */
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { suite, tempDir } from './kit.js';

const test = suite('pool-context-thrown');
const HANDLER = fileURLToPath(new URL('./fixtures/shape-pool-handler.mjs', import.meta.url));

interface Seen { keys: string[]; spread: string[]; json: Record<string, unknown>; state: string | null }

/** Runs the handler over 4 records after a commit of the state 'abc', in the consumer's thread or a pool; what it saw and what the call threw. */
async function run(pool: boolean): Promise<{ seen: Seen[]; error: Error & { status?: unknown; code?: unknown } }> {
  const logDir = tempDir();
  const out = tempDir();
  process.env.SHAPE_OUT = out;
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  for (let i = 0; i < 5; i++) p.append(`r${i}`);
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('shape') });
  try {
    await c.nonblockingProcess(1, (_m, ctx) => { ctx.setState('abc'); return 'commit'; });
    const handler = (await import(HANDLER)).default;
    const call = pool ? c.nonblockingProcess(null, HANDLER, { workers: 1 }) : c.nonblockingProcess(null, handler);
    const error = await call.then(() => { throw new Error('the call resolved'); }, (e: unknown) => e as Error);
    const seen = [1, 2].map((k) => JSON.parse(readFileSync(join(out, `seen-${k}.json`), 'utf8')) as Seen);
    for (const s of seen) delete s.json.logId;
    return { seen, error };
  } finally {
    await c.close();
  }
}

test('the same context and the same error, in the consumer\'s thread and in a pool', async () => {
  const thread = await run(false);
  const pool = await run(true);
  assert.equal(thread.seen[0]!.keys, ['attempt', 'logId', 'offset', 'setState']);
  assert.equal(pool.seen, thread.seen, 'what the handler saw of ctx');
  assert.is(pool.seen[1]!.state, 'abc', 'bytes written at an earlier record reach no later one');

  const t = thread.error;
  const e = pool.error;
  assert.is(t.name, 'MyErr');
  assert.ok(e instanceof TypeError, `${Object.prototype.toString.call(e)} ${e.name}`);
  assert.is(e.name, 'MyErr');
  assert.is(e.message, 'boom');
  assert.is(e.status, 503);
  assert.ok(e.cause instanceof Error);
  assert.is((e.cause as Error).name, 'RangeError');
  assert.is((e.cause as Error).message, 'inner');
  assert.match(String(e.stack), /shape-pool-handler\.mjs/);
});

test.run();
