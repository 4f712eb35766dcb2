/**
 * The client side of the funnel fails with coded errors, as the owner does: a connect() that races the
 * owner's close() is ERR_LOG_CLOSED (never ERR_IO); a detached Uint8Array is refused as by the owner
 * (ERR_INVALID_OPTION), and a Uint8Array from another realm is taken; destroy() with a value that is
 * not an Error rejects what waits with ERR_LOG_CLOSED, as the owner's destroy() does.
 */
import * as assert from 'uvu/assert';
import { runInNewContext } from 'node:vm';
import { LogError, Producer } from '../dist/index.js';
import { readRecords, suite, tempDir } from './kit.js';

const test = suite('funnel-client-errors');

const codeOf = (e: unknown): string => `${e instanceof LogError ? 'LogError' : (e as Error)?.constructor?.name}:${String((e as { code?: unknown })?.code)}`;

test('connect() racing the owner\'s close() rejects with ERR_LOG_CLOSED, never ERR_IO', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const tries = Array.from({ length: 8 }, () => Producer.connect({ logDir }).then((r) => { r.destroy(); return 'connected'; }, codeOf));
  await p.close();
  const codes = await Promise.all(tries);
  for (const c of codes) if (c !== 'connected') assert.is(c, 'LogError:ERR_LOG_CLOSED');
});

test('append() of a detached Uint8Array is a coded LogError (the owner: ERR_INVALID_OPTION), nothing appended', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const owner = (() => { const u = new Uint8Array(8); structuredClone(u.buffer, { transfer: [u.buffer] }); try { p.append(u); return 'appended'; } catch (e) { return codeOf(e); } })();
  const remote = await Producer.connect({ logDir });
  const u = new Uint8Array(8);
  structuredClone(u.buffer, { transfer: [u.buffer] });
  const remoteOutcome = await remote.append(u).then((o) => `appended at ${o}`, codeOf);
  await remote.close();
  await p.close();
  assert.is(remoteOutcome, owner);
  assert.is((await readRecords(logDir)).length, 0);
});

test('append() of a Uint8Array from another realm is taken, as by the owner', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const foreign = runInNewContext('new Uint8Array([104, 105])') as Uint8Array;
  const owner = (() => { try { return `appended at ${p.append(foreign)}`; } catch (e) { return codeOf(e); } })();
  const remote = await Producer.connect({ logDir });
  const remoteOutcome = await remote.append(foreign).then((o) => `appended at ${o}`, codeOf);
  await remote.close();
  await p.close();
  assert.ok(owner.startsWith('appended'), `owner: ${owner}`);
  assert.ok(remoteOutcome.startsWith('appended'), `remote: ${remoteOutcome}`);
});

test('destroy() with a value that is not an Error: what waits, and later calls, reject with ERR_LOG_CLOSED, as on the owner', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  for (const reason of ['boom', 0, { code: 'ERR_MADE_UP' }]) {
    const remote = await Producer.connect({ logDir });
    await remote.append('sent');
    const waiting = [remote.append('waits').then(() => 'resolved', codeOf), remote.flush().then(() => 'resolved', codeOf)];
    remote.destroy(reason as never);
    assert.equal(await Promise.all(waiting), ['LogError:ERR_LOG_CLOSED', 'LogError:ERR_LOG_CLOSED'], `destroy(${JSON.stringify(reason)})`);
    assert.is(await remote.append('late').then(() => 'resolved', codeOf), 'LogError:ERR_LOG_CLOSED');
  }
  await p.close();
});

test.run();
