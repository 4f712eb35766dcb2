/**
 * repairLog beside readers: a nonTx reader open across a repair would keep its position (and its
 * descriptor of a truncated or removed segment) past the cut, and after new appends reuse those
 * offsets it would pass over them silently. Repair refuses (ERR_LOG_LOCKED) while any consumer has
 * the log open (a shared lock on durable.offset), and a consumer opened while a repair runs is refused
 * the same way. Readers still change nothing in the log directory.
 */
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer, Whence, repairLog } from '../dist/index.js';
import { digestDir, logOf, rejectsWith, suite, tempDir, waitFor } from './kit.js';

const test = suite('repair-open-reader');
const N = 400;
const texts = Array.from({ length: N }, (_, i) => `record-${i}-${'y'.repeat(i % 40)}`);

/** A closed log of N records in segments of about 2 KiB, a byte flipped in the middle of its third segment. */
async function damagedLog(): Promise<string> {
  const logDir = await logOf(texts, { fileRollSize: 2048, indexIntervalBytes: 512, flushAfter: (i: number) => i % 7 === 6 });
  const { readdirSync } = await import('node:fs');
  const segs = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort();
  const victim = join(logDir, segs[2]!);
  const bytes = readFileSync(victim);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  writeFileSync(victim, bytes);
  return logDir;
}

test('a nonTx reader open across the repair: the repair is refused, the log untouched', async () => {
  const logDir = await damagedLog();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(N - 20)) });
  const before = digestDir(logDir);
  try {
    const err = await rejectsWith(repairLog(logDir, { backupDir: join(tempDir(), 'backup') }), 'ERR_LOG_LOCKED');
    assert.match(err.message, /reader|consumer/);
    assert.is(digestDir(logDir), before, 'nothing changed');
  } finally {
    await c.close();
  }
  assert.is(digestDir(logDir), before, 'the reader changed nothing');
  // Closed: the repair goes on, and a reader opened afterwards reads the records appended at the cut.
  const report = await repairLog(logDir, { backupDir: join(tempDir(), 'backup') });
  const k = report.cut!.offset;
  const p = await Producer.open({ logDir });
  for (let i = 0; i < N; i++) p.append(`new-${i}`);
  await p.close();
  const r = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(k)) });
  const got: string[] = [];
  for (const m of r.iter()) got.push(Buffer.from(m.data).toString());
  await r.close();
  assert.equal(got, Array.from({ length: N }, (_, i) => `new-${i}`));
});

test('a consumer opened while the repair copies its backup is refused', async () => {
  const logDir = await damagedLog();
  const opens: Array<Promise<unknown>> = [];
  await repairLog(logDir, {
    backupDir: join(tempDir(), 'backup'),
    onProgress: () => {
      if (opens.length > 0) return;
      opens.push(Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) }));
      opens.push(Consumer.open({ logDir, style: ConsumerStyle.clientTx('late') }));
    },
  });
  assert.is(opens.length, 2);
  for (const o of opens) {
    const c = await o.catch((e: unknown) => e);
    if (c instanceof Consumer) await c.close();
    assert.is((c as { code?: string }).code, 'ERR_LOG_LOCKED', String(c));
  }
});

test('a reader in another process refuses the repair until it is killed (SIGKILL): the kernel lets the lock go', async () => {
  const logDir = await damagedLog();
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const code = `import { Consumer, ConsumerStyle, Whence } from ${JSON.stringify(dist)};
    const c = await Consumer.open({ logDir: ${JSON.stringify(logDir)}, style: ConsumerStyle.nonTx(Whence.oldest()) });
    console.log('open'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    await waitFor(() => out.includes('open'), 'the child opened its consumer');
    await rejectsWith(repairLog(logDir, { backupDir: join(tempDir(), 'backup') }), 'ERR_LOG_LOCKED');
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  }
  const report = await repairLog(logDir, { backupDir: join(tempDir(), 'backup') });
  assert.ok(report.cut !== null && report.cut.offset < N);
});

test.run();
