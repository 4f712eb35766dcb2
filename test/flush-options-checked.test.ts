/**
 * flush() and writable() of a producer, owner or attached handle, take only the options they
 * document ({ signal }; { bytes, signal }): a misspelt key (`{ sginal }`, `{ byte }`) is
 * ERR_INVALID_OPTION naming it, as for every other options bag, instead of a wait without the bound
 * the caller asked for.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { suite, rejectsWith, tempDir } from './kit.js';

const test = suite('flush options checked');

test('a misspelt flush or writable option is ERR_INVALID_OPTION naming it; the producer goes on', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  const attached = Producer.attach(p.share());
  p.append('r0');
  const signal = AbortSignal.abort('stop');
  for (const [name, call] of [
    ['owner flush', () => p.flush({ sginal: signal } as never)],
    ['attached flush', () => attached.flush({ sginal: signal } as never)],
    ['owner writable', () => p.writable({ byte: 10 } as never)],
  ] as const) {
    const err = await rejectsWith(call(), 'ERR_INVALID_OPTION');
    assert.match(err.message, /sginal|byte/, name);
  }
  attached.append('r1');
  await attached.flush();
  await p.flush();
  assert.is(p.durableOffset, 2);
  await attached.close();
  await p.close();
});

test.run();
