/**
 * The funnel's limits: a socket path too long for a Unix socket is bad input refused before the log
 * directory is created or recovered; a client past the owner's 64 connections is told so (ERR_LOG_FULL
 * naming the limit) rather than seeing a reset; connections that never greet are ended after 5 s, so
 * silent connections cannot keep every client out.
 */
import * as assert from 'uvu/assert';
import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer } from '../dist/index.js';
import { rawClient, type RawClient } from './funnel-kit.js';
import { digestDir, rejectsWith, suite, tempDir, waitFor } from './kit.js';

const test = suite('funnel-limits');

test('a socket path too long: ERR_INVALID_OPTION and no directory created', async () => {
  const base = tempDir();
  const logDir = join(base, 'x'.repeat(Math.max(1, 100 - base.length))); // <logDir>/producer.sock > 107 bytes
  assert.ok(Buffer.byteLength(join(logDir, 'producer.sock')) > 107);
  await rejectsWith(Producer.open({ logDir, acceptConnections: true }), 'ERR_INVALID_OPTION');
  assert.not.ok(existsSync(logDir), `bad input created ${logDir}: ${existsSync(logDir) ? readdirSync(logDir).join(', ') : ''}`);
});

test('a socket path too long on an existing log with a torn tail: ERR_INVALID_OPTION and the directory untouched', async () => {
  const base = tempDir();
  const logDir = join(base, 'y'.repeat(Math.max(1, 100 - base.length)));
  const p = await Producer.open({ logDir });
  p.append('a');
  await p.close();
  appendFileSync(join(logDir, '00000000000000000000.seg'), Buffer.alloc(100, 0x5a)); // a torn tail: recovery would cut it
  const before = digestDir(logDir);
  await rejectsWith(Producer.open({ logDir, acceptConnections: true }), 'ERR_INVALID_OPTION');
  assert.is(digestDir(logDir), before, 'the directory changed');
});

test('a file at producer.sock that is not a socket: ERR_IO before recovery, the directory untouched and the file kept', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  p.append('a');
  await p.close();
  appendFileSync(join(logDir, '00000000000000000000.seg'), Buffer.alloc(100, 0x5a)); // a torn tail: recovery would cut it
  writeFileSync(join(logDir, 'producer.sock'), 'not a socket');
  const before = digestDir(logDir);
  await rejectsWith(Producer.open({ logDir, acceptConnections: true }), 'ERR_IO');
  assert.is(digestDir(logDir), before, 'the refused open changed the directory');
  const q = await Producer.open({ logDir }); // without acceptConnections the name is not needed
  await q.close();
  assert.is(readFileSync(join(logDir, 'producer.sock'), 'utf8'), 'not a socket', 'a file that is not a socket is never removed');
});

test('a client past the 64th is refused with ERR_LOG_FULL naming the limit', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const silent: RawClient[] = [];
  for (let i = 0; i < 64; i++) silent.push(await rawClient(logDir)); // connect, never greet
  const outcomes: string[] = [];
  for (let i = 0; i < 5; i++) {
    try {
      const r = await Producer.connect({ logDir, connectTimeoutMs: 2000 });
      outcomes.push('connected');
      await r.close();
    } catch (e) {
      const err = e as { code?: string; message: string };
      outcomes.push(`${err.code}: ${err.message}`);
    }
  }
  for (const s of silent) s.socket.destroy();
  await p.close();
  console.log(outcomes.join('\n'));
  for (const o of outcomes) assert.ok(o.startsWith('ERR_LOG_FULL') && o.includes('limit of 64 connections'), `refused with: ${o}`);
});

test('connections that never greet are ended after 5 s: a real client gets in', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  const silent: RawClient[] = [];
  for (let i = 0; i < 64; i++) silent.push(await rawClient(logDir));
  let connected = false;
  try {
    await waitFor(async () => {
      try {
        const r = await Producer.connect({ logDir, connectTimeoutMs: 1000 });
        await r.close();
        return (connected = true);
      } catch {
        return false;
      }
    }, 'a slot freed from a connection that never greeted', 15_000);
  } catch (e) {
    console.log(String(e));
  }
  const stillOpen = silent.filter((s) => !s.isClosed()).length;
  for (const s of silent) s.socket.destroy();
  await p.close();
  assert.ok(connected, `after 15 s, ${stillOpen} of 64 silent connections still hold every slot`);
});

test.run();
