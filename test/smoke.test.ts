import * as assert from 'uvu/assert';
import { Producer, Consumer, ConsumerStyle, Whence, SyncPolicy } from '../dist/index.js';
import { suite, tempDir } from './kit.js';

const test = suite('smoke');

test('append, flush, read back in the same process', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  for (let i = 0; i < 100; i++) assert.is(p.append(`r${i}`), i);
  await p.flush();
  assert.is(p.durableOffset, 100);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const got = [...c.iter()].map((m) => Buffer.from(m.data).toString());
  assert.equal(got, Array.from({ length: 100 }, (_, i) => `r${i}`));
  await c.close();
  await p.close();
});

test.run();
