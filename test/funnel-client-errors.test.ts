/**
 * The client side of the funnel fails with coded errors, as the owner does: a connect() that races the
 * owner's close() is ERR_LOG_CLOSED (never ERR_IO); a detached Uint8Array is refused as by the owner
 * (ERR_INVALID_OPTION), and a Uint8Array from another realm is taken.
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

test.run();
