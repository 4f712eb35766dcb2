/**
 * What the read commands print and when they stop: `dump` and `tail` without -f print the records
 * stored when they start and exit, also beside a producer that keeps appending; text output tells
 * text from binary data; a failed write to stdout (not a closed pipe) ends with exit code 1 and a
 * message, not a stack trace.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { Consumer, ConsumerStyle, SyncPolicy, Whence } from '../dist/index.js';
import { liveLogOf, logOf, suite, waitFor } from './kit.js';
import { CLI, CliProcess, cli, killCliProcesses } from './cli-kit.js';

const test = suite('cli output');
test.after(killCliProcesses);

const offsetsOf = (c: CliProcess): number[] => c.lines().map((l) => Number(l.split(' ')[0]));
const pad = 'x'.repeat(60);

test('dump prints only the records stored when it starts (records appended after it started must not appear)', async () => {
  // 3000 records of ~70 bytes: far more than a pipe buffer, so the child blocks writing before it reaches the end.
  const { logDir, p } = await liveLogOf(Array.from({ length: 3000 }, (_, i) => `rec-${i}-${pad}`));
  const child = new CliProcess(['dump', logDir]);
  child.proc.stdout!.pause();
  // The child has opened the log and printed (its output fills our paused buffer; it cannot reach its end: 200 KB > what the pipe holds).
  await waitFor(() => child.proc.stdout!.readableLength >= child.proc.stdout!.readableHighWaterMark, 'the dump to fill the pipe');
  assert.is(child.exit, null, 'the dump is still blocked on its output');
  const endWhenStarted = p.nextOffset; // every record the dump can have seen when it started is below this
  for (let i = 0; i < 500; i++) p.append(`late-${i}`);
  await p.flush();
  child.proc.stdout!.resume();
  await child.exited;
  await p.close();
  assert.equal(child.exit, { code: 0, signal: null }, child.stderr);
  const offsets = offsetsOf(child);
  const late = offsets.filter((o) => o >= endWhenStarted);
  assert.is(late.length, 0, `dump printed ${late.length} records appended after it started (offsets ${late[0]}..${late[late.length - 1]}; the log held ${endWhenStarted} when it started)`);
});

async function busyProducer(): Promise<{ logDir: string; stop: () => Promise<number> }> {
  const { logDir, p } = await liveLogOf(Array.from({ length: 2000 }, (_, i) => `rec-${i}`), { syncPolicy: SyncPolicy.never(), fileRollSize: 64 * 1024 * 1024 });
  let stopped = false;
  let n = 0;
  const appending = (async () => {
    while (!stopped && n < 5_000_000) {
      await p.writable({ bytes: 64 });
      for (let i = 0; i < 500; i++) p.append(`live-${n++}`);
      await new Promise((r) => setImmediate(r));
    }
  })();
  return {
    logDir,
    stop: async () => {
      stopped = true;
      await appending;
      await p.close();
      return n;
    },
  };
}

test('tail -n 5 (no -f) beside a producer that keeps appending: prints at most 5 records and exits', async () => {
  const { logDir, stop } = await busyProducer();
  const child = new CliProcess(['tail', logDir, '-n', '5']);
  const bound = Date.now() + 15_000;
  await waitFor(() => child.exit !== null || Date.now() > bound || child.lines().length > 50_000, 'the tail to end', 20_000);
  const exited = child.exit !== null;
  const printed = child.lines().length;
  if (!exited) await child.stop('SIGKILL');
  await stop();
  assert.ok(printed <= 5, `tail -n 5 printed ${printed} records${exited ? '' : ' and was still running'}`);
  assert.ok(exited, 'tail -n 5 still running');
});


test('text mode: a text record that reads "base64:..." and a binary record print different lines', async () => {
  const binary = new Uint8Array([0x00, 0xff, 0xfe]);
  const text = `base64:${Buffer.from(binary).toString('base64')}`; // valid UTF-8, no control characters
  const logDir = await logOf([binary, text]);
  const r = cli('dump', logDir);
  assert.is(r.status, 0, r.stderr);
  const data = r.stdout.trim().split('\n').map((l) => l.split(' ').slice(2).join(' '));
  // The two records hold different bytes; a reader of the text output must be able to tell them apart.
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const stored = [...c.iter()].map((m) => Buffer.from(m.data).toString('hex'));
  await c.close();
  assert.is.not(stored[0], stored[1], 'the records differ');
  assert.is.not(data[0], data[1], `both records print as ${JSON.stringify(data[0])}`);
});

test('a write to stdout that fails (ENOSPC): exit 1 and a message on stderr, not a raw stack trace', async () => {
  const logDir = await logOf(5);
  const full = openSync('/dev/full', 'w');
  try {
    for (const args of [['info', logDir], ['dump', logDir], ['cursor', 'list', logDir, '--json']]) {
      const r = spawnSync(process.execPath, [CLI, ...args], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 60_000 });
      assert.is(r.status, 1, `${args[0]}: ${r.stderr}`);
      assert.not.match(r.stderr, /\n\s+at /, `${args.join(' ')}: stderr is a raw stack trace:\n${r.stderr.split('\n').slice(0, 8).join('\n')}`);
      assert.match(r.stderr, /^reactive-log: writing to stdout failed: ENOSPC$/m, `${args[0]}: ${r.stderr}`);
    }
  } finally {
    closeSync(full);
  }
});

test.run();
