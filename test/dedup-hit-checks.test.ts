/**
 * A dedup hit answers only a valid call: append(data, { dedupKey }) with a key the window holds checks
 * the data, the key, the headers and the size first, and throws what the same call throws with a key
 * the window does not hold; on a shared producer (after share()) too. That includes a dedupKey getter
 * that answers another key when read again: the key looked up must be the key checked.
 */
import * as assert from 'uvu/assert';
import { Producer, isLogError } from '../dist/index.js';
import { suite, tempDir } from './kit.js';

const test = suite('dedup-hit-checks');

const calls: ReadonlyArray<readonly [string, string, (p: Producer, k: string) => number]> = [
  ['data that is a number', 'ERR_INVALID_OPTION', (p, k) => p.append(12345 as unknown as string, { dedupKey: k })],
  ['a key that is a number', 'ERR_INVALID_RECORD', (p, k) => p.append('x', { dedupKey: k, key: 5 as unknown as string })],
  ['headers that are a number', 'ERR_INVALID_RECORD', (p, k) => p.append('x', { dedupKey: k, headers: 7 as unknown as Record<string, string> }) ],
  ['a record over maxRecordBytes', 'ERR_RECORD_TOO_LARGE', (p, k) => p.append('x'.repeat(70 * 1024), { dedupKey: k })],
  ['a dedupKey getter that answers another key when read again', 'ERR_INVALID_RECORD', (p, k) => p.append('x', flipping(k, `${k}-then`))],
];

/** Options whose dedupKey is `first` at the first read and `then` after (the window's lookup reads it first). */
function flipping(first: string, then: string): { readonly dedupKey: string } {
  let reads = 0;
  return { get dedupKey() { return reads++ === 0 ? first : then; } };
}

for (const shared of [false, true]) test(`a bad call with a dedup key the window holds throws as it does with a key it does not hold${shared ? ' (shared)' : ''}`, async () => {
  const p = await Producer.open({ logDir: tempDir(), dedupWindow: { records: 1000 }, ringBytes: 64 * 1024 });
  if (shared) p.share();
  try {
    assert.is(p.append('first', { dedupKey: 'held' }), 0);
    const wrong: string[] = [];
    for (const [what, code, call] of calls) {
      let fresh: string;
      try {
        call(p, `fresh-${what}`);
        fresh = 'returned';
      } catch (e) {
        fresh = isLogError(e) ? e.code : String(e);
      }
      assert.is(fresh, code, `${what}, key not held`);
      let held: string;
      try {
        held = `returned offset ${call(p, 'held')}`;
      } catch (e) {
        held = isLogError(e) ? e.code : String(e);
      }
      if (held !== code) wrong.push(`${what}: ${held} (${code} without a hit)`);
    }
    assert.equal(wrong, []);
    assert.is(p.append('again', { dedupKey: 'held' }), 0, 'a valid call still answers the earlier offset');
  } finally {
    await p.close();
  }
});

/** What the getter's own call got: the offset it returned, or the error code it threw. */
function outcome(fn: () => unknown): string {
  try {
    return `returned ${String(fn())}`;
  } catch (e) {
    return isLogError(e) ? e.code : String(e);
  }
}

const fromGetter: ReadonlyArray<readonly [string, (p: Producer) => unknown]> = [
  ['an append of bytes', (p) => p.append(Buffer.from('inner'))],
  ['an appendBatch', (p) => p.appendBatch(['inner-1', 'inner-2'])],
  ['share()', (p) => p.share()],
  ['close()', (p) => { void p.close(); }],
];

for (const shared of [false, true]) for (const [what, call] of fromGetter) test(`${what} from a getter of the record's headers: the same answer with a key the window holds as with one it does not${shared ? ' (shared)' : ''}`, async () => {
  const answers: Record<string, { inner: string; outer: string }> = {};
  for (const hit of [false, true]) {
    const p = await Producer.open({ logDir: tempDir(), dedupWindow: { records: 1000 }, ringBytes: 64 * 1024 });
    if (shared) p.share();
    try {
      assert.is(p.append('first', { dedupKey: 'held' }), 0);
      let inner = 'not called';
      const opts = {
        dedupKey: hit ? 'held' : 'fresh',
        get headers() {
          if (inner === 'not called') inner = outcome(() => call(p));
          return { h: 'v' };
        },
      };
      const outer = outcome(() => p.append('outer', opts));
      answers[hit ? 'hit' : 'miss'] = { inner, outer: hit ? outer : outer.replace('returned 1', 'returned the offset') };
      if (hit) assert.is(p.nextOffset, 1, `${what} from the getter of an append that hit the window appended nothing`);
    } finally {
      await p.close().catch(() => undefined);
    }
  }
  assert.equal(answers.hit!.inner, answers.miss!.inner, `the getter's ${what}`);
  assert.ok(answers.hit!.outer === answers.miss!.outer || (answers.hit!.outer === 'returned 0' && answers.miss!.outer === 'returned the offset'), `the append: ${JSON.stringify(answers)}`);
});

test.run();
