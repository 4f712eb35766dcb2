/**
 * The real CLI on real logs: info against the producer's own figures (the producer in this process,
 * the CLI in another), dump, get and tail output in text and NDJSON, tail -f following records
 * appended here, cursor list/reset/delete against a held cursor, a missing one and a bad id.
 * Bad usage is in cli-usage.test.ts.
 */
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Consumer, ConsumerStyle, SyncPolicy, type Message } from '../dist/index.js';
import { digestDir, liveLogOf, suite, waitFor } from './kit.js';
import { CliProcess, cli, killCliProcesses } from './cli-kit.js';

const test = suite('cli');
test.after(killCliProcesses);

const json = (s: string): unknown => JSON.parse(s);
const ndjson = (s: string): Array<Record<string, unknown>> => s.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

test('info --json: the figures of a producer appending in another process', async () => {
  const { logDir, p } = await liveLogOf(120, { fileRollSize: 1024, flushAfter: (i) => i % 10 === 0 });
  for (let i = 0; i < 33; i++) p.append(`more-${i}`);
  await p.flush();
  const r = cli('info', logDir, '--json');
  assert.is(r.status, 0, r.stderr);
  const info = json(r.stdout) as { nextOffset: number; durableOffset: number; logStartOffset: number; producer: { pid: number } | null; segments: unknown[] };
  assert.is(info.nextOffset, p.nextOffset);
  assert.is(info.durableOffset, p.durableOffset);
  assert.is(info.nextOffset, 153);
  assert.is(info.logStartOffset, p.logStartOffset);
  assert.is(info.producer?.pid, process.pid);
  assert.ok(info.segments.length > 1);
  const text = cli('info', logDir);
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, /next offset\s+153\n/);
  assert.match(text.stdout, new RegExp(`producer\\s+pid ${process.pid} `));
  await p.close();
});

test('info --json while the producer appends all along: each figure between the producer\'s before and after', async () => {
  const { logDir, p } = await liveLogOf(10, { fileRollSize: 4096, syncPolicy: SyncPolicy.periodic(5) });
  let stop = false;
  const appending = (async () => {
    for (let i = 0; !stop; i++) {
      p.append(`busy-${i}`);
      if (i % 20 === 0) await new Promise((r) => setImmediate(r));
    }
  })();
  await waitFor(() => p.durableOffset > 1000, 'appends under way');
  const before = { written: p.writtenOffset, durable: p.durableOffset, start: p.logStartOffset };
  const child = new CliProcess(['info', logDir, '--json']);
  await child.exited;
  const middle = { next: p.nextOffset };
  stop = true;
  await appending;
  await p.flush();
  assert.equal(child.exit, { code: 0, signal: null }, child.stderr);
  const info = json(child.stdout) as { nextOffset: number; durableOffset: number; logStartOffset: number };
  assert.ok(before.written <= info.nextOffset && info.nextOffset <= middle.next, `nextOffset ${info.nextOffset} in [${before.written}, ${middle.next}]`);
  assert.ok(before.durable <= info.durableOffset && info.durableOffset <= info.nextOffset, `durableOffset ${info.durableOffset} in [${before.durable}, ${info.nextOffset}]`);
  assert.is(info.logStartOffset, before.start);
  await p.close();
});

test('dump, get and tail: records as text or NDJSON with key, headers and timestamp; bytes that are not UTF-8 as base64', async () => {
  const { logDir, p } = await liveLogOf(30);
  p.append('keyed', { key: 'k1', headers: { trace: 'abc' } });
  p.append(new Uint8Array([0xff, 0x00, 0x41]));
  p.append('two\nlines');
  await p.flush();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx({ kind: 'position', offset: 30 }) });
  const [keyed] = [...c.iter()] as Message[];
  await c.close();
  const all = cli('dump', logDir, '--json');
  assert.is(all.status, 0, all.stderr);
  const rows = ndjson(all.stdout);
  assert.equal(rows.map((r) => r.offset), Array.from({ length: 33 }, (_, i) => i));
  assert.equal(rows[5], { offset: 5, timestamp: rows[5]!.timestamp, time: new Date(rows[5]!.timestamp as number).toISOString(), key: null, keyEncoding: null, headers: null, data: 'rec-5', dataEncoding: 'utf8' });
  assert.equal(rows[30], { offset: 30, timestamp: keyed!.timestamp, time: new Date(keyed!.timestamp).toISOString(), key: 'k1', keyEncoding: 'utf8', headers: { trace: 'abc' }, data: 'keyed', dataEncoding: 'utf8' });
  assert.equal([rows[31]!.data, rows[31]!.dataEncoding], [Buffer.from([0xff, 0x00, 0x41]).toString('base64'), 'base64']);
  assert.equal([rows[32]!.data, rows[32]!.dataEncoding], ['two\nlines', 'utf8']);
  const some = cli('dump', logDir, '--from', '10', '--count', '3');
  assert.equal(some.stdout.trim().split('\n').map((l) => l.split(' ').filter((_, i) => i !== 1).join(' ')), ['10 rec-10', '11 rec-11', '12 rec-12']);
  const since = cli('dump', logDir, '--since', new Date(keyed!.timestamp).toISOString(), '--json');
  assert.ok(ndjson(since.stdout).every((r) => (r.timestamp as number) >= keyed!.timestamp) && ndjson(since.stdout).at(-1)!.offset === 32);
  const got = cli('get', logDir, '31');
  assert.is(got.status, 0, got.stderr);
  assert.match(got.stdout, /^31 \S+ base64:\/wBB\n$/);
  assert.match(cli('get', logDir, '32').stdout, /^32 \S+ base64:/, 'a line break in data is not printed raw');
  const missing = cli('get', logDir, '33');
  assert.equal([missing.status, missing.stdout], [1, '']);
  const tail = cli('tail', logDir, '-n', '2', '--json');
  assert.equal(ndjson(tail.stdout).map((r) => r.offset), [31, 32]);
  await p.close();
});

test('tail -f prints a record appended by another process', async () => {
  const { logDir, p } = await liveLogOf(5);
  const child = new CliProcess(['tail', logDir, '-f', '--json']);
  await waitFor(() => child.lines().length === 5 || child.exit !== null, 'the last records');
  assert.equal(child.lines().map((l) => (json(l) as { offset: number }).offset), [0, 1, 2, 3, 4], child.stderr);
  for (let i = 0; i < 3; i++) {
    const offset = p.append(`live-${i}`);
    await p.flush();
    await waitFor(() => child.lines().length === 6 + i || child.exit !== null, `record ${offset} on tail -f's stdout`, 5_000);
    assert.equal(json(child.lines().at(-1)!), { ...(json(child.lines().at(-1)!) as object), offset, data: `live-${i}` }, child.stderr);
  }
  await child.stop('SIGTERM');
  assert.equal(child.exit, { code: 0, signal: null }, child.stderr);
  await p.close();
});

test('cursor list, reset and delete; refused while a consumer holds the cursor, a missing cursor, a bad id', async () => {
  const { logDir, p } = await liveLogOf(40);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(25, () => 'commit');
  const [entry] = json(cli('cursor', 'list', logDir, '--json').stdout) as Array<{ id: string; committedOffset: number; owner: { pid: number } | null; lag: { records: number } }>;
  assert.equal([entry!.id, entry!.committedOffset, entry!.owner?.pid, entry!.lag.records], ['billing', 25, process.pid, 15]);
  const before = digestDir(logDir);
  for (const args of [['reset', logDir, 'billing', '--to', 'oldest'], ['delete', logDir, 'billing']]) {
    const r = cli('cursor', ...args);
    assert.is(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /ERR_CURSOR_LOCKED/);
    assert.is(digestDir(logDir), before, 'a held cursor is left alone');
  }
  await c.close();
  const afterClose = digestDir(logDir);
  const nobody = cli('cursor', 'reset', logDir, 'nobody', '--to', '3');
  assert.equal([nobody.status, /no cursor "nobody"/.test(nobody.stderr)], [1, true], nobody.stderr);
  const badId = cli('cursor', 'delete', logDir, 'bad/id');
  assert.equal([badId.status, /ERR_INVALID_CONSUMER_ID/.test(badId.stderr)], [2, true], badId.stderr);
  assert.is(digestDir(logDir), afterClose);
  const reset = cli('cursor', 'reset', logDir, 'billing', '--to', '7', '--json');
  assert.is(reset.status, 0, reset.stderr);
  assert.equal(json(reset.stdout), { id: 'billing', from: 25, to: 7 });
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  assert.is(again.committedOffset, 7);
  await again.close();
  const del = cli('cursor', 'delete', logDir, 'billing');
  assert.is(del.status, 0, del.stderr);
  assert.equal(json(cli('cursor', 'list', logDir, '--json').stdout), []);
  assert.is(cli('cursor', 'delete', logDir, 'billing').status, 1, 'deleted already');
  await p.close();
});

test('--version prints the package version; --help per command', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(cli('--version'), { status: 0, stdout: `${pkg.version}\n`, stderr: '' });
  for (const cmd of ['info', 'dump', 'get', 'tail', 'cursor', 'verify', 'demo']) {
    const r = cli(cmd, '--help');
    assert.is(r.status, 0, cmd);
    assert.ok(r.stdout.startsWith(`Usage: reactive-log ${cmd}`), r.stdout);
  }
});

test.run();
