/**
 * I/O errors inside the operator tools: EIO on reads of a middle segment makes inspectLog and
 * repairLog reject with a coded LogError, and `info`, `cursor list` and `repair` print one line, no
 * stack trace; EIO on repair's own ftruncate is a coded LogError too.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogError, inspectLog, repairLog } from '../dist/index.js';
import { suite, tempDir } from './kit.js';
import { CLI } from './cli-kit.js';
import { FAULT_IO, withFaults, type FaultPlan } from './faults.js';
import { logWithCursor } from './repair-kit.js';

const test = suite('admin-raw-errors');

function cliWithFaults(plan: object, ...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, REACTIVE_LOG_TEST_FILE_IO: FAULT_IO, REACTIVE_LOG_FAULTS: JSON.stringify(plan) },
  });
  return { status: r.status, stderr: r.stderr };
}

test('EIO reading a middle segment: coded errors from the API, no stack trace from the CLI', async () => {
  const { logDir, segs } = await logWithCursor();
  const plan: FaultPlan = { rules: [{ op: 'read', path: `${segs[1]!.replace('.', '\\.')}$`, nth: 1, persistent: true, effect: { errno: 'EIO' } }] };
  const api: string[] = [];
  await withFaults(plan, async () => {
    for (const [name, call] of [['inspectLog', () => inspectLog(logDir)], ['repairLog', () => repairLog(logDir, { dryRun: true })]] as const) {
      const e = await call().then(() => null, (x) => x as Error);
      api.push(`${name}: ${e === null ? 'resolved' : e instanceof LogError ? `LogError ${e.code}` : `plain ${e.message}`}`);
    }
  });
  console.log(api.join('\n'));
  const stackLike = (s: string): boolean => /\n\s+at /.test(s);
  const outs = [['info', logDir], ['cursor', 'list', logDir], ['repair', logDir, '--dry-run']].map((args) => {
    const r = cliWithFaults(plan, ...args);
    console.log(`reactive-log ${args[0]}: exit ${r.status}, stderr: ${r.stderr.split('\n').slice(0, 2).join(' | ')}`);
    return r;
  });
  assert.ok(api.every((l) => l.includes('LogError')), 'every failure is a coded LogError');
  assert.ok(outs.every((r) => !stackLike(r.stderr)), 'no stack trace on stderr');
});

test('EIO while repair truncates the cut segment: a coded error', async () => {
  const { logDir, segs } = await logWithCursor();
  const victim = join(logDir, segs[2]!);
  const b = readFileSync(victim);
  b[Math.floor(b.length / 2)] ^= 0xff;
  writeFileSync(victim, b);
  const e = await withFaults({ rules: [{ op: 'ftruncate', path: '\\.seg$', nth: 1, effect: { errno: 'EIO' } }] },
    () => repairLog(logDir, { backupDir: join(tempDir(), 'bk') }).then(() => null, (x) => x as Error));
  console.log('repairLog with EIO on ftruncate:', e === null ? 'resolved' : e instanceof LogError ? `LogError ${e.code}` : `plain Error: ${e.message}`);
  console.log('segments left:', readdirSync(logDir).filter((n) => n.endsWith('.seg')).length, 'of', segs.length);
  assert.ok(e instanceof LogError, 'a coded LogError');
});

test.run();
