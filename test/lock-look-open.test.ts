/**
 * A look at a lock (`unlock --dry-run`, `repair --dry-run`: lock-admin.ts heldNow) takes a shared lock
 * for an instant to see whether an owner holds the exclusive one. An open that tries the lock in that
 * instant is not refused for it: nobody owns the log or the cursor, and a producer restarted after a
 * crash while an operator looks must open. The look's instant is stretched here (its close of the lock
 * file, its second after the read of the owner information, is delayed 500 ms by the fault layer in
 * the CLI process) so that the open falls inside it.
 */
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { logOf, readTexts, suite, tempDir, waitFor } from './kit.js';
import { Child } from './child.js';
import { CLI } from './cli-kit.js';
import { FAULT_IO } from './faults.js';

const test = suite('lock-look-open');
const LOOK_MS = 500;

/** A lock file an owner left when it was SIGKILLed: the producer's, or cursor client.billing's. */
async function leftByKilledOwner(logDir: string, kind: 'producer' | 'cursor'): Promise<string> {
  const owner = Child.fork('lock-contender.mjs', [logDir, kind, 'esm'], { execArgv: [] });
  await owner.next('ready');
  owner.send({ type: 'go', records: 0 });
  assert.ok((await owner.next<{ type: string; ok: boolean }>('result')).ok, 'the first owner opens');
  await owner.kill();
  const file = kind === 'producer' ? join(logDir, 'producer.lock') : join(logDir, 'cursors', 'client.billing.lock');
  assert.ok(existsSync(file), 'the killed owner left its lock file');
  return file;
}

/** Starts `reactive-log unlock <dir> --dry-run` with its look at `lockName` held LOOK_MS; resolves once it looks. */
async function lookingCli(logDir: string, lockName: string): Promise<{ exited: Promise<{ status: number | null; stdout: string }> }> {
  const trace = join(tempDir(), 'trace');
  const plan = { trace, rules: [{ op: 'close', path: lockName, thread: 'main', nth: 2, effect: { delayMs: LOOK_MS } }] };
  const proc = spawn(process.execPath, [CLI, 'unlock', logDir, '--dry-run'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, REACTIVE_LOG_TEST_FILE_IO: FAULT_IO, REACTIVE_LOG_FAULTS: JSON.stringify(plan) },
  });
  let stdout = '';
  proc.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
  const exited = new Promise<{ status: number | null; stdout: string }>((r) => proc.once('exit', (status) => r({ status, stdout })));
  await waitFor(() => { try { return readFileSync(trace, 'utf8').includes('FIRE'); } catch { return false; } }, 'the CLI to look at the lock');
  return { exited };
}

test('a producer opened while unlock --dry-run looks at producer.lock opens', async () => {
  const logDir = await logOf(['a']);
  await leftByKilledOwner(logDir, 'producer');
  const look = await lookingCli(logDir, 'producer\\.lock$');
  let code: string | null = null;
  const p = await Producer.open({ logDir }).catch((e: { code?: string }) => { code = e.code ?? 'uncoded'; return null; });
  const cli = await look.exited;
  assert.is(cli.status, 0);
  assert.is(code, null, 'the open is not refused for a look');
  p!.append('b');
  await p!.close();
  assert.equal(await readTexts(logDir), ['a', 'b']);
});

test('a transactional consumer opened while unlock --dry-run looks at its cursor lock opens', async () => {
  const logDir = await logOf(['a']);
  await leftByKilledOwner(logDir, 'cursor');
  const look = await lookingCli(logDir, 'billing\\.lock$');
  let code: string | null = null;
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') }).catch((e: { code?: string }) => { code = e.code ?? 'uncoded'; return null; });
  const cli = await look.exited;
  assert.is(cli.status, 0);
  assert.is(code, null, 'the open is not refused for a look');
  await c!.close();
});

test.run();
