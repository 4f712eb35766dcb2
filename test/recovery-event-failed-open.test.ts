/**
 * reactive-log:recovery says "a producer opened a directory": an open that fails after recovery (the
 * funnel's listener refused, with acceptConnections) publishes nothing, so a subscriber never counts
 * an open that rejected as one that worked.
 */
import * as assert from 'uvu/assert';
import diagnosticsChannel from 'node:diagnostics_channel';
import net from 'node:net';
import { Producer, SyncPolicy } from '../dist/index.js';
import { rejectsWith, suite, tempDir } from './kit.js';

const test = suite('recovery-event-failed-open');

test('an open whose listener fails rejects and publishes no recovery event; a later open publishes one', async () => {
  const logDir = tempDir();
  const seen: unknown[] = [];
  const onRecovery = (m: unknown): void => void seen.push(m);
  diagnosticsChannel.subscribe('reactive-log:recovery', onRecovery);
  const listen = net.Server.prototype.listen;
  try {
    net.Server.prototype.listen = function refused(this: net.Server): net.Server {
      process.nextTick(() => this.emit('error', Object.assign(new Error('listen EACCES (injected)'), { code: 'EACCES', errno: -13, syscall: 'listen' })));
      return this;
    } as typeof listen;
    await rejectsWith(Producer.open({ logDir, syncPolicy: SyncPolicy.always(), acceptConnections: true }), 'ERR_IO');
    net.Server.prototype.listen = listen;
    assert.is(seen.length, 0, 'no recovery event for an open that rejected');
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), acceptConnections: true });
    assert.is(seen.length, 1, 'one for the open that worked');
    await p.close();
  } finally {
    net.Server.prototype.listen = listen;
    diagnosticsChannel.unsubscribe('reactive-log:recovery', onRecovery);
  }
});

test.run();
