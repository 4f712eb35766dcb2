/**
 * An empty durable.offset is what a consumer (or a repair) creates to hold the readers lock where the
 * log had none (src/storage/readers-lock.ts): it holds no hint, as a missing file holds none. verifyLog
 * reports it as missing and finds nothing wrong with it; a durable.offset with some bytes but not 12
 * (a torn rewrite) is still reported unreadable.
 */
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, Whence, verifyLog } from '../dist/index.js';
import { suite, tempDir } from './kit.js';

const test = suite('verify-empty-durable-hint');

test('a log whose durable.offset a consumer created empty verifies without a durable-hint finding', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  p.append('a');
  await p.close();
  rmSync(join(logDir, 'durable.offset')); // lost in an OS crash
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  await c.close();
  assert.ok(existsSync(join(logDir, 'durable.offset')), 'the consumer created the file to hold its lock');
  assert.is(statSync(join(logDir, 'durable.offset')).size, 0);
  const report = await verifyLog(logDir);
  assert.ok(report.ok, JSON.stringify(report.findings));
  assert.equal(report.findings.filter((x) => x.kind === 'durable-hint'), [], JSON.stringify(report.findings));
  assert.is(report.durableHint.state, 'missing');
});

test('a durable.offset cut short (not empty) is still reported unreadable', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  p.append('a');
  await p.close();
  const path = join(logDir, 'durable.offset');
  writeFileSync(path, readFileSync(path).subarray(0, 5));
  const report = await verifyLog(logDir);
  assert.is(report.durableHint.state, 'invalid');
  assert.equal(report.findings.filter((x) => x.kind === 'durable-hint').map((x) => x.severity), ['warning']);
});

test.run();
