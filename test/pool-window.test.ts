/**
 * The shared record window of a pool round on a backend (src/consumer/pool-window.ts): records
 * read back by offset with their data, key, headers and timestamp; the ring wraps; a record waits
 * while the records not committed hold its room or its slot; a record larger than the arena is
 * ERR_RECORD_TOO_LARGE.
 */
import * as assert from 'uvu/assert';
import { WindowReader, WindowWriter } from '../src/consumer/pool-window.js';
import { WINDOW } from '../src/consumer/pool-protocol.js';
import type { Message } from '../src/types.js';
import { suite, throwsWith } from './kit.js';

const test = suite('pool-window');

function rec(offset: number, bytes: number, attrs = false): Message {
  return {
    offset,
    data: new Uint8Array(bytes).fill(offset & 0xff),
    timestamp: 1_700_000_000_000 + offset,
    key: attrs ? new TextEncoder().encode(`k${offset}`) : null,
    headers: attrs ? { h: `v${offset}`, second: 'x' } : null,
  };
}

test('records read back by offset, with data, key, headers and timestamp, as copies', () => {
  const w = new WindowWriter(4096);
  const r = new WindowReader(w.buffer);
  for (let o = 10; o < 20; o++) assert.ok(w.put(rec(o, 50 + o, o % 2 === 0), 10, o));
  r.seek(14);
  const m = r.read(20)!;
  assert.equal({ ...m, data: [...m.data], key: m.key && new TextDecoder().decode(m.key) },
    { offset: 14, data: [...rec(14, 64).data], timestamp: 1_700_000_000_014, key: 'k14', headers: { h: 'v14', second: 'x' } });
  assert.is(r.nextOffset, 15);
  assert.equal(r.read(20)!.headers, null);
  r.skipTo(20);
  assert.is(r.read(20), null, 'nothing at or past the limit');
  assert.is(r.hint(), null);
  assert.is(r.jumpTo(), false);
  const kept = w.message(12).data;
  assert.ok(w.put(rec(20, 3000), 20, 20), 'every record written is committed: the ring is empty');
  assert.is(kept[0], 12, 'a message read stays valid after its bytes are reused');
});

test('the ring wraps; a record waits while the records not committed hold its room', () => {
  const w = new WindowWriter(1000);
  const r = new WindowReader(w.buffer);
  assert.ok(w.put(rec(0, 396), 0, 0)); // 400 bytes at 0
  assert.ok(w.put(rec(1, 396), 0, 1)); // 400 at 400
  assert.not.ok(w.put(rec(2, 396), 0, 2), 'no room before the end, and record 0 holds the start');
  assert.not.ok(w.put(rec(2, 396), 1, 2), 'record 0 is committed, but 400 bytes at 0 would reach record 1');
  assert.ok(w.put(rec(2, 300), 1, 2), 'the ring wraps to its start');
  assert.not.ok(w.put(rec(3, 100), 1, 3), 'between the head and record 1 there is no room for 104 bytes');
  assert.ok(w.put(rec(3, 80), 1, 3));
  r.seek(1);
  for (let o = 1; o <= 3; o++) {
    const m = r.read(4)!;
    assert.is(m.offset, o);
    assert.ok(m.data.every((b) => b === o));
  }
});

test('the slots: a record waits while the record WINDOW before it is not committed', () => {
  const w = new WindowWriter(1 << 20);
  for (let o = 0; o < WINDOW; o++) assert.ok(w.put(rec(o, 0), 0, o));
  assert.not.ok(w.put(rec(WINDOW, 0), 0, WINDOW));
  assert.ok(w.put(rec(WINDOW, 0), 1, WINDOW));
});

test('a record larger than the arena is ERR_RECORD_TOO_LARGE', () => {
  const w = new WindowWriter(1000);
  throwsWith(() => w.put(rec(0, 997), 0, 0), 'ERR_RECORD_TOO_LARGE');
  assert.ok(w.put(rec(0, 996), 0, 0), 'a record of the whole arena fits once the ring is empty');
});

test.run();
