/**
 * remote.flush() of a handle from Producer.connect takes the options the owner's flush() takes:
 * `{ signal }`. A misspelt key, or an options value that is not an object, is ERR_INVALID_OPTION
 * naming it; a signal already aborted, or aborted while the owner's answer is on its way, rejects
 * with ERR_ABORTED as the local flush does, and the owner's late answer leaves the connection
 * working.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { readRecords, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('funnel flush options');

test('a misspelt or malformed flush option is ERR_INVALID_OPTION, as on the owner; the handle goes on', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const remote = await Producer.connect({ logDir });
  await remote.append('r0');
  const signal = AbortSignal.abort('stop');
  const misspelt = await rejectsWith(remote.flush({ sginal: signal } as never), 'ERR_INVALID_OPTION');
  assert.match(misspelt.message, /sginal/);
  await rejectsWith(remote.flush({ signal: 'soon' } as never), 'ERR_INVALID_OPTION');
  await rejectsWith(remote.flush(null as never), 'ERR_INVALID_OPTION');
  await remote.append('r1');
  await remote.flush();
  await remote.close();
  await p.close();
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['r0', 'r1']);
});

test('an aborted signal rejects the remote flush with ERR_ABORTED and its reason as cause; the late answer breaks nothing', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const remote = await Producer.connect({ logDir });
  await remote.append('r0');
  const local = await rejectsWith(p.flush({ signal: AbortSignal.abort('early') }), 'ERR_ABORTED');
  const early = await rejectsWith(remote.flush({ signal: AbortSignal.abort('early') }), 'ERR_ABORTED');
  assert.is((early as Error & { cause?: unknown }).cause, (local as Error & { cause?: unknown }).cause);
  // Aborted after the FLUSH is sent: the owner's answer comes later, for a flush nobody waits for.
  for (let i = 0; i < 20; i++) {
    const ac = new AbortController();
    const waiting = remote.flush({ signal: ac.signal });
    remote.append(`late ${i}`).catch(() => undefined);
    ac.abort('late');
    const err = await rejectsWith(waiting, 'ERR_ABORTED');
    assert.is((err as Error & { cause?: unknown }).cause, 'late');
  }
  await remote.append('after');
  await remote.flush({ signal: AbortSignal.timeout(60_000) });
  await remote.close();
  await p.close();
  const texts = (await readRecords(logDir)).map((r) => r.text);
  assert.is(texts.length, 22);
  assert.is(texts.at(-1), 'after');
});

test.run();
