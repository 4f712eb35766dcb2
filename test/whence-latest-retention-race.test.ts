/**
 * Whence.latest() on a live log whose producer (another process) rolls fast under a tight retention:
 * the newest segment the open read the end from can be sealed and deleted before the reader seeks
 * there. The open must then read the end again and start there, as Whence.oldest() does, not fail
 * with ERR_POSITION_EXPIRED: `latest` names no stored record, so nothing it asked for was lost. The
 * fault injector stretches the window: the open's second open of a segment (the seek, after the
 * bounds walk's) waits while the child rolls on and retention deletes that segment.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence } from '../dist/index.js';
import { Child } from './child.js';
import { clearFaults, readTrace, setFaults } from './faults.js';
import { suite, tempDir } from './kit.js';

const test = suite('whence-latest-retention-race');

test('the newest segment deleted between reading the end and the seek: Whence.latest() opens at the new end', async () => {
  const logDir = tempDir();
  const trace = join(tempDir(), 'trace');
  const { REACTIVE_LOG_TEST_FILE_IO: _io, REACTIVE_LOG_FAULTS: _faults, ...env } = process.env;
  const child = Child.fork('rolling-producer.mjs', [logDir], { env, execArgv: [] });
  try {
    await child.next('rolling');
    setFaults({ trace, rules: [{ op: 'open', path: '\\.seg$', thread: 'main', nth: 2, effect: { delayMs: 3000 } }] });
    let c: Consumer;
    try {
      c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.latest()) });
    } finally {
      clearFaults();
    }
    const fired = readTrace(trace).filter((l) => l.fired);
    assert.is(fired.length, 1, 'the seek\'s open of the segment waited');
    const waitedOn = Number(fired[0]!.path.split('/').at(-1)!.replace('.seg', ''));
    assert.ok(c.position > waitedOn, `opened at ${c.position}, past segment ${waitedOn} that retention deleted meanwhile`);
    await c.close();
  } finally {
    child.send({ type: 'stop' });
    await child.exited;
  }
});

test.run();
