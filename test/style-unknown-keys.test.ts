/**
 * A consumer style built by hand (from a configuration file, in JavaScript) with a key its kind does
 * not take is refused with ERR_INVALID_OPTION, as an unknown key of the options bag is, and the log
 * directory stays as it was. Accepted silently, `{ kind: 'globalTx', whence: Whence.latest() }`
 * opened the shared cursor at the oldest record (the whole log delivered to a consumer that asked
 * for new records only), and `{ kind: 'globalTx', consumerId: 'billing' }` opened the log's one
 * shared cursor for a consumer that meant a cursor of its own (records the other users of the shared
 * cursor committed were passed over for it, without an error).
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Whence, type LogError } from '../dist/index.js';
import { digestDir, logOf, rejectsWith, suite } from './kit.js';

const test = suite('style-unknown-keys');

const BAD_STYLES: Array<[string, Record<string, unknown>, string]> = [
  ['globalTx with a whence', { kind: 'globalTx', whence: Whence.latest() }, 'style.whence'],
  ['globalTx with a consumerId', { kind: 'globalTx', consumerId: 'billing' }, 'style.consumerId'],
  ['clientTx with a whence', { kind: 'clientTx', consumerId: 'billing', whence: Whence.latest() }, 'style.whence'],
  ['nonTx with a consumerId', { kind: 'nonTx', whence: Whence.oldest(), consumerId: 'billing' }, 'style.consumerId'],
];

for (const [what, style, option] of BAD_STYLES) {
  test(`${what}: ERR_INVALID_OPTION naming ${option}, the directory untouched`, async () => {
    const logDir = await logOf(5);
    const before = digestDir(logDir);
    const err = await rejectsWith(() => Consumer.open({ logDir, style: style as never }), 'ERR_INVALID_OPTION') as LogError;
    assert.is(err.details.option, option);
    assert.is(digestDir(logDir), before, 'the refused open changed the directory');
  });
}

test('the styles ConsumerStyle builds still open', async () => {
  const logDir = await logOf(5);
  for (const style of [ConsumerStyle.globalTx(), ConsumerStyle.clientTx('billing'), ConsumerStyle.nonTx(Whence.latest())]) {
    const c = await Consumer.open({ logDir, style });
    await c.close();
  }
});

test.run();
