/**
 * The readers lock beside a dry-run repair: `repairLog(dir, { dryRun: true })` (`repair --dry-run`)
 * looks whether a consumer has the log open by trying the exclusive lock on durable.offset for an
 * instant. That look changes nothing and is no repair: a consumer that opens at that instant must
 * not be refused as if a repair ran ("being repaired", ERR_LOG_LOCKED).
 */
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Whence } from '../dist/index.js';
import { logOf, suite, waitFor } from './kit.js';

const test = suite('readers-lock-look');

test('consumers opened while another process runs dry-run repairs in a loop are never refused', async () => {
  const logDir = await logOf(5);
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  // The child's dry runs may themselves be refused while a consumer is open (that is their answer).
  const code = `import { repairLog } from ${JSON.stringify(dist)};
    let n = 0;
    process.stdin.on('end', () => { console.log('looks ' + n); process.exit(0); }); process.stdin.resume();
    console.log('go');
    for (;;) { try { await repairLog(${JSON.stringify(logDir)}, { dryRun: true }); } catch {} n++; if (n % 64 === 0) await new Promise((r) => setImmediate(r)); }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const refusals: string[] = [];
  let opened = 0;
  try {
    await waitFor(() => out.includes('go'), 'the child started its dry runs');
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      try {
        const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
        opened++;
        await c.close();
      } catch (e) {
        refusals.push(`${(e as { code?: string }).code}: ${(e as Error).message}`);
      }
    }
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.end();
    await exited;
  }
  const looks = Number(/looks (\d+)/.exec(out)?.[1] ?? 0);
  assert.ok(looks > 100, `the child looked ${looks} times`);
  assert.ok(opened > 100, `opened ${opened} consumers`);
  assert.equal(refusals.slice(0, 3), [], `${refusals.length} of ${opened + refusals.length} opens refused`);
});

test.run();
