/**
 * A record's data given as a string that is not well-formed UTF-16 (a lone surrogate) has no UTF-8
 * form: it was stored as U+FFFD and read back as another string, with no error, while the same
 * string as a key, header or dedup key was refused. Now every append path refuses it with
 * ERR_INVALID_RECORD before anything is reserved: append, appendBatch (a bare string and { data }),
 * a handle of Producer.connect, and JetStream (test/conformance-records.test.ts has the last).
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, ErrorCode, Producer, Whence } from '../dist/index.js';
import { digestDir, rejectsWith, suite, tempDir, throwsWith } from './kit.js';

const test = suite('lone-surrogate-data');
const LONE = ['order-\ud800', '\udc00', `${'é'.repeat(40)}\ud83d`];

async function texts(logDir: string): Promise<string[]> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...c.iter()].map((m) => Buffer.from(m.data).toString());
  } finally {
    await c.close();
  }
}

test('append and appendBatch refuse it; nothing is appended, no offset is used', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  try {
    p.append('before');
    for (const s of LONE) {
      throwsWith(() => p.append(s), ErrorCode.INVALID_RECORD);
      throwsWith(() => p.append(s, { key: 'k' }), ErrorCode.INVALID_RECORD);
      throwsWith(() => p.appendBatch(['ok', s]), ErrorCode.INVALID_RECORD);
      throwsWith(() => p.appendBatch([{ data: 'ok' }, { data: s, key: 'k' }]), ErrorCode.INVALID_RECORD);
    }
    assert.is(p.nextOffset, 1);
    assert.is(p.append('after \ud83d\ude00'), 1, 'a surrogate pair is well formed');
  } finally {
    await p.close();
  }
  assert.equal(await texts(logDir), ['before', 'after \ud83d\ude00']);
});

test('a handle of Producer.connect refuses it before sending', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true });
  try {
    const r = await Producer.connect({ logDir });
    try {
      for (const s of LONE) await rejectsWith(async () => r.append(s), ErrorCode.INVALID_RECORD);
      assert.is(await r.append('fine'), 0);
    } finally {
      await r.close();
    }
  } finally {
    await p.close();
  }
  const before = digestDir(logDir);
  assert.equal(await texts(logDir), ['fine']);
  assert.is(digestDir(logDir), before);
});

test.run();
