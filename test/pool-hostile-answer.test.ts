/**
 * A handler whose answer cannot be awaited (an object whose `then` getter throws, a revoked proxy)
 * has thrown, as `await` says in the consumer's thread: with `retryOnThrow` the record is retried and
 * dead-lettered after `maxAttempts`, in a pool as without one; without it the call rejects with that
 * error. The pool's answer matches the handler function's.
 */
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Whence, decodeDeadLetter } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf, tempDir } from './kit.js';

const test = suite('pool-hostile-answer');
const handlerFile = fileURLToPath(new URL('./fixtures/hostile-answer-handler.mjs', import.meta.url));

type Result = { summary: unknown; dead: number[]; ran: string; cursor: number | null } | { error: string; code: unknown; ran: string; cursor: number | null };

async function outcome(text: string, pool: boolean, retryOnThrow: boolean): Promise<Result> {
  const logDir = await logOf(['ok', text, 'ok'], POOL_LOG);
  const deadLetterDir = join(tempDir(), 'dlq');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('h'), retry: { maxAttempts: 2, retryOnThrow, deadLetterDir } });
  const fn = ((await import(handlerFile)) as { default: (m: unknown, ctx: unknown) => unknown }).default;
  let r: Result;
  try {
    const call = pool ? c.nonblockingProcess(null, handlerFile, { workers: 1, timeoutMs: 10_000 }) : c.nonblockingProcess(null, fn as never);
    const s = await guarded(call.then((v) => ({ v }), (e: Error & { code?: unknown }) => ({ e })));
    assert.ok(s !== 'stuck', 'the call ends');
    const ran = readFileSync(join(logDir, 'ran'), 'utf8');
    if ('e' in s) r = { error: s.e.message, code: s.e.code, ran, cursor: c.committedOffset };
    else {
      const dead: number[] = [];
      try {
        const dl = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
        for (const m of dl.iter()) dead.push(decodeDeadLetter(m.data).offset);
        await dl.close();
      } catch { /* no dead-letter log */ }
      r = { summary: s.v, dead, ran, cursor: c.committedOffset };
    }
  } finally {
    await c.close();
  }
  return r;
}

for (const text of ['then-getter', 'revoked']) {
  for (const retryOnThrow of [true, false]) {
    test(`an answer that cannot be awaited (${text}), retryOnThrow ${retryOnThrow}: the pool answers as the function does`, async () => {
      const inProcess = await outcome(text, false, retryOnThrow);
      const pooled = await outcome(text, true, retryOnThrow);
      assert.equal(pooled, inProcess);
      if (retryOnThrow) assert.equal((inProcess as { dead: number[] }).dead, [1], 'dead-lettered after 2 attempts');
    });
  }
}

test.run();
