/**
 * A cleaner of the temporary directory (systemd-tmpfiles, macOS) removes the pool worker module
 * while a consumer's pool lives, and a pool thread exits afterwards: piscina starts another thread
 * in its place, and that thread finds its module again. The call goes on with every record, as after
 * any worker loss; it does not fail as if the pool's threads could not start.
 */
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suite, tempDir } from './kit.js';

const test = suite('pool worker file cleaned');

test('the worker module removed, then a worker exits mid-record: the lane starts again on a new thread', () => {
  // In a child process with a temporary directory of its own (TMPDIR, inherited by the pool threads):
  // the handler removes only that process's reactive-log-* folders.
  const dir = tempDir();
  mkdirSync(join(dir, 'tmp'));
  writeFileSync(join(dir, 'handler.mjs'), `
    import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
    import { tmpdir } from 'node:os';
    import { join } from 'node:path';
    export default (msg, ctx) => {
      const marker = join(ctx.logId, 'cleaned');
      if (msg.offset === 5 && !existsSync(marker)) {
        writeFileSync(marker, '');
        for (const n of readdirSync(tmpdir())) if (n.startsWith('reactive-log-')) rmSync(join(tmpdir(), n), { recursive: true, force: true });
        process.exit(1);
      }
      return 'commit';
    };
  `);
  const script = `
    import { Producer, Consumer, ConsumerStyle, SyncPolicy } from ${JSON.stringify(fileURLToPath(new URL('../dist/index.js', import.meta.url)))};
    const logDir = ${JSON.stringify(join(dir, 'log'))};
    const handler = ${JSON.stringify(join(dir, 'handler.mjs'))};
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
    for (let i = 0; i < 20; i++) p.append('r' + i);
    await p.close();
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('a') });
    try {
      console.log(JSON.stringify(await c.nonblockingProcess(null, handler, { workers: 1, batchRecords: 4 })));
    } catch (e) {
      console.log('rejected ' + e.code + ': ' + e.message);
    }
    console.log('cursor ' + c.committedOffset);
    await c.close();
  `;
  const env = { ...process.env, TMPDIR: join(dir, 'tmp') };
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, env });
  assert.is(r.status, 0, `exit ${r.status ?? r.signal}: ${r.stderr}`);
  assert.is(r.stdout.trim(), '{"committed":20,"skipped":0,"retried":0,"stoppedBy":"end"}\ncursor 20');
});

test.run();
