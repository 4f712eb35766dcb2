/**
 * Round trips: what is appended is read back byte for byte at the offset append returned, across many
 * segment rolls, in the producer's process (shared memory) and from the files after close; every kind
 * of record (Buffer, Uint8Array views, strings with multi-byte UTF-8, 0 bytes, 1 byte, 16 MiB); every
 * Whence; ERR_POSITION_EXPIRED below the log start; timestamps (seek-position.test.ts: seeks that use
 * the sparse index).
 */
import * as assert from 'uvu/assert';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, Consumer, ConsumerStyle, Whence, SyncPolicy, type Message } from '../dist/index.js';
import { suite, tempDir, rejectsWith, waitFor, prng, liveLogOf } from './kit.js';

const test = suite('roundtrip');

const MiB = 1024 * 1024;

function seedFor(name: string): number {
  const seed = process.env.SEED !== undefined ? Number(process.env.SEED) : Math.floor(Math.random() * 2 ** 31);
  console.log(`${name}: seed=${seed} (replay: SEED=${seed})`);
  return seed;
}

/** The bytes of the segment files in `dir` (what maxTotalBytes counts). */
const segmentBytes = (dir: string): number => readdirSync(dir).filter((n) => n.endsWith('.seg')).reduce((sum, n) => sum + statSync(join(dir, n)).size, 0);
const segmentBases = (dir: string): number[] =>
  readdirSync(dir).filter((n) => /^\d{20}\.seg$/.test(n)).map((n) => Number(n.slice(0, 20))).sort((a, b) => a - b);

async function open(logDir: string, whence = Whence.oldest()): Promise<Consumer> {
  return Consumer.open({ logDir, style: ConsumerStyle.nonTx(whence) });
}

/** Every record visible now, from `whence`. */
async function readFrom(logDir: string, whence = Whence.oldest()): Promise<Message[]> {
  const c = await open(logDir, whence);
  try {
    return [...c.iter()];
  } finally {
    await c.close();
  }
}

/** Asserts `got` holds exactly `expected[from..]`, offsets and bytes. */
function assertRecords(got: readonly Message[], expected: readonly Uint8Array[], from: number, what: string): void {
  assert.is(got.length, expected.length - from, `${what}: record count`);
  for (let k = 0; k < got.length; k++) {
    const m = got[k]!;
    const want = expected[from + k]!;
    if (m.offset !== from + k) assert.unreachable(`${what}: record #${k} has offset ${m.offset}, expected ${from + k}`);
    if (!(m.data instanceof Uint8Array)) assert.unreachable(`${what}: data of ${m.offset} is not a Uint8Array`);
    if (Buffer.compare(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), want) !== 0) {
      assert.unreachable(`${what}: bytes of offset ${m.offset} differ (got ${m.data.byteLength} bytes, expected ${want.byteLength})`);
    }
  }
}

const bytesOf = (r: string | Uint8Array): Buffer => (typeof r === 'string' ? Buffer.from(r, 'utf8') : Buffer.from(r));

// ---------------------------------------------------------------------------------------------------

test('thousands of random records across many segment rolls: exact in-process (live and after flush) and from the files', async () => {
  const seed = seedFor('random round trip');
  const rand = prng(seed);
  const logDir = tempDir();
  const fileRollSize = 1024 + Math.floor(rand() * 3073); // 1024..4096
  const policies = [SyncPolicy.never(), SyncPolicy.periodic(5), SyncPolicy.everyBytes(8192), SyncPolicy.always()];
  const syncPolicy = policies[Math.floor(rand() * policies.length)]!;
  const maxBatchBytes = 1024 + Math.floor(rand() * 16 * 1024);
  console.log(`  fileRollSize=${fileRollSize} syncPolicy=${JSON.stringify(syncPolicy)} maxBatchBytes=${maxBatchBytes}`);
  const p = await Producer.open({ logDir, syncPolicy, fileRollSize, maxTotalBytes: null, maxBatchBytes, indexIntervalBytes: 512 });
  const N = 3000;
  const expected: Buffer[] = [];
  const alphabet = ['a', 'Z', '0', ' ', 'é', 'ß', '€', '日', '😀', '\n', '\u0000'];
  const record = (): string | Uint8Array => {
    const r = rand();
    const size = r < 0.05 ? 0 : r < 0.75 ? Math.floor(rand() * 200) : r < 0.97 ? 200 + Math.floor(rand() * 1500) : 2000 + Math.floor(rand() * 6000);
    const kind = rand();
    if (kind < 0.4) {
      const b = Buffer.allocUnsafe(size);
      for (let i = 0; i < size; i++) b[i] = Math.floor(rand() * 256);
      return b;
    }
    if (kind < 0.6) {
      const backing = new Uint8Array(size + 16);
      for (let i = 0; i < backing.length; i++) backing[i] = Math.floor(rand() * 256);
      return backing.subarray(8, 8 + size); // a view with a byteOffset: only the view is the record
    }
    let s = '';
    while (s.length < size) s += alphabet[Math.floor(rand() * alphabet.length)]!;
    return s;
  };

  // A blocking reader in this process follows the appends as they are written.
  const live: Message[] = [];
  const ac = new AbortController();
  const follower = await open(logDir);
  const following = (async () => {
    for await (const m of follower.tail({ signal: ac.signal })) {
      live.push(m);
      if (live.length === N) break;
    }
  })();
  try {
    for (let i = 0; i < N; i++) {
      const r = record();
      assert.is(p.append(r), i);
      expected.push(bytesOf(r));
      if (i % 97 === 0) await new Promise((res) => setImmediate(res)); // let the reader and writer interleave
    }
    assert.is(p.nextOffset, N);
    await p.flush();
    assert.is(p.durableOffset, N);
    await waitFor(() => live.length === N, `the live reader to see ${N} records (has ${live.length})`);
    await following;
    assertRecords(live, expected, 0, 'live in-process reader');
    const bases = segmentBases(logDir);
    assert.ok(bases.length > 50, `many segment rolls (${bases.length} segments)`);
    assert.is(bases[0], 0);
    assertRecords(await readFrom(logDir), expected, 0, 'in-process after flush');
  } finally {
    ac.abort();
    await follower.close();
    await p.close();
  }
  assertRecords(await readFrom(logDir), expected, 0, 'from the files after close');
  // And a reopened producer continues the offsets.
  const q = await Producer.open({ logDir, fileRollSize, maxTotalBytes: null });
  assert.is(q.nextOffset, N);
  assert.is(q.append('one more'), N);
  expected.push(Buffer.from('one more'));
  await q.close();
  assertRecords(await readFrom(logDir, Whence.position(N - 10)), expected, N - 10, 'after reopen');
});

test('Buffer, Uint8Array views and strings (multi-byte UTF-8, > 4096 UTF-16 units) read back exactly', async () => {
  const logDir = tempDir();
  const pooled = Buffer.from('from the buffer pool'); // a small Buffer: a view into a shared pool, byteOffset > 0
  const big = new Uint8Array(10_000).map((_, i) => (i * 7) & 255);
  const records: Array<string | Uint8Array> = [
    '', 'a', 'héllo wörld', '日本語のテキスト', 'emoji 😀🎉👩‍👩‍👧 flags 🇸🇪', 'nul\u0000inside', 'tab\tnew\nline',
    'x'.repeat(4096), 'é'.repeat(4096), '€'.repeat(4096), '😀'.repeat(2048), // exactly 4096 UTF-16 units, 1..4 bytes each
    'y'.repeat(4097), 'é'.repeat(4097), '日'.repeat(5000), '😀'.repeat(3000), 'a€😀ß'.repeat(3000), 'z'.repeat(100_000),
    pooled, Buffer.alloc(0), Buffer.from([0]), Buffer.from([0xff, 0xfe, 0x00, 0x80]),
    new Uint8Array([1, 2, 3]), big.subarray(1234, 5678), new Uint8Array(big.buffer, 9000, 1000), new Uint8Array(0),
    Buffer.from(new Uint8Array([9, 8, 7]).buffer),
  ];
  assert.ok(pooled.byteOffset > 0 || pooled.buffer.byteLength > pooled.byteLength, 'the pooled Buffer is a view');
  const p = await Producer.open({ logDir, fileRollSize: 4096, syncPolicy: SyncPolicy.never() });
  const expected = records.map(bytesOf);
  try {
    records.forEach((r, i) => assert.is(p.append(r), i));
    await p.flush();
    const inProcess = await readFrom(logDir);
    assertRecords(inProcess, expected, 0, 'in-process');
    records.forEach((r, i) => {
      if (typeof r === 'string') assert.is(Buffer.from(inProcess[i]!.data).toString('utf8'), r, `string ${i} decodes to itself`);
    });
  } finally {
    await p.close();
  }
  const fromFiles = await readFrom(logDir);
  assertRecords(fromFiles, expected, 0, 'from the files');
  // A record handed out stays valid after later records are read.
  const first = fromFiles[2]!;
  assert.is(Buffer.from(first.data).toString(), 'héllo wörld');
});

test('records of 0 bytes, 1 byte and exactly 16 MiB read back byte-equal with default options', async () => {
  const logDir = tempDir();
  const huge = Buffer.allocUnsafe(16 * MiB);
  for (let i = 0; i < huge.length; i += 4) huge.writeUInt32LE((Math.imul(i, 2654435761) >>> 0), i);
  const records: Uint8Array[] = [Buffer.alloc(0), Buffer.from([0x5a]), huge, new Uint8Array(0), Buffer.from([0])];
  const p = await Producer.open({ logDir }); // default options: maxRecordBytes is 16 MiB
  try {
    records.forEach((r, i) => assert.is(p.append(r), i, `append of ${r.byteLength} bytes`));
    assert.is(p.append(''), records.length, 'an empty string');
    await p.flush();
    const expected = [...records, Buffer.alloc(0)].map(bytesOf);
    assertRecords(await readFrom(logDir), expected, 0, 'in-process');
    await p.close();
    assertRecords(await readFrom(logDir), expected, 0, 'from the files');
  } finally {
    await p.close();
  }
});

test('a 16 MiB record (Buffer and string) with a 64 MiB ring, between small ones', async () => {
  const logDir = tempDir();
  const huge = Buffer.allocUnsafe(16 * MiB);
  for (let i = 0; i < huge.length; i += 4) huge.writeUInt32LE((Math.imul(i + 1, 2246822519) >>> 0), i);
  const hugeText = 'ab€'.repeat((16 * MiB) / 5) + 'x'.repeat((16 * MiB) % 5); // exactly 16 MiB of UTF-8
  assert.is(Buffer.byteLength(hugeText), 16 * MiB);
  const p = await Producer.open({ logDir, ringBytes: 64 * MiB, syncPolicy: SyncPolicy.never() });
  const records: Array<string | Uint8Array> = ['before', huge, 'middle', hugeText, Buffer.alloc(0), 'after'];
  try {
    records.forEach((r, i) => assert.is(p.append(r), i));
    await p.flush();
  } finally {
    await p.close();
  }
  assertRecords(await readFrom(logDir), records.map(bytesOf), 0, 'from the files');
});

// ---------------------------------------------------------------------------------------------------
// Whence
// ---------------------------------------------------------------------------------------------------

const text = (i: number) => `rec-${i}-${'w'.repeat(i % 53)}`;

/** A log of `n` records over many small segments; the producer is returned open. */
async function manySegments(logDir: string, n: number): Promise<{ p: Producer; expected: Buffer[] }> {
  const records = Array.from({ length: n }, (_, i) => text(i));
  const { p } = await liveLogOf(records, {
    logDir, fileRollSize: 1024, maxTotalBytes: null, syncPolicy: SyncPolicy.never(), maxBatchBytes: 1024,
    flushAfter: (i) => i % 10 === 0, // smaller frames, so that segments end at many offsets
  });
  return { p, expected: records.map((r) => Buffer.from(r)) };
}

test('Whence.oldest and Whence.position at the start, middle, segment boundaries and the end', async () => {
  const logDir = tempDir();
  const n = 600;
  const { p, expected } = await manySegments(logDir, n);
  const bases = segmentBases(logDir);
  assert.ok(bases.length >= 5, `several segments (${bases.length})`);
  const boundary = bases[Math.floor(bases.length / 2)]!;
  assert.ok(boundary > 0 && boundary < n);
  const positions = [0, 1, Math.floor(n / 2), boundary - 1, boundary, boundary + 1, bases.at(-1)!, n - 1, n];
  const check = async (mode: string) => {
    assertRecords(await readFrom(logDir, Whence.oldest()), expected, 0, `${mode} oldest`);
    for (const at of positions) assertRecords(await readFrom(logDir, Whence.position(at)), expected, at, `${mode} position(${at})`);
  };
  try {
    await check('in-process');
    // position(end) then sees exactly what is appended next.
    const c = await open(logDir, Whence.position(n));
    assert.equal([...c.iter()], []);
    p.append(text(n));
    expected.push(Buffer.from(text(n)));
    await p.flush();
    assertRecords([...c.iter()], expected, n, 'position(end) after one more append');
    await c.close();
  } finally {
    await p.close();
  }
  positions.push(n + 1);
  await check('from the files');
});

test('Whence.latest sees only records appended after the consumer opened', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, fileRollSize: 1024, syncPolicy: SyncPolicy.never() });
  try {
    for (let i = 0; i < 50; i++) p.append(text(i));
    await p.flush();
    for (let i = 50; i < 60; i++) p.append(text(i)); // appended, maybe not yet written: still "before open"
    const c = await open(logDir, Whence.latest());
    await p.flush();
    assert.equal([...c.iter()].map((m) => m.offset), [], 'nothing appended before open');
    for (let i = 60; i < 65; i++) p.append(text(i));
    await p.flush();
    const got = [...c.iter()];
    assert.equal(got.map((m) => m.offset), [60, 61, 62, 63, 64]);
    assert.equal(got.map((m) => Buffer.from(m.data).toString()), [60, 61, 62, 63, 64].map(text));
    await c.close();
  } finally {
    await p.close();
  }
  // From the files: latest is the end of the stored log.
  const c = await open(logDir, Whence.latest());
  assert.equal([...c.iter()], []);
  const q = await Producer.open({ logDir, fileRollSize: 1024 });
  try {
    q.append(text(65));
    await q.flush();
    assert.equal([...c.iter()].map((m) => Buffer.from(m.data).toString()), [text(65)]);
  } finally {
    await c.close();
    await q.close();
  }
});

test('consumer.position after open is the offset the Whence names, before anything is read', async () => {
  const logDir = tempDir();
  const { p } = await manySegments(logDir, 300);
  const check = async (mode: string) => {
    const cases: Array<[string, ReturnType<typeof Whence.oldest>, number]> = [
      ['oldest', Whence.oldest(), 0], ['position(0)', Whence.position(0), 0], ['position(123)', Whence.position(123), 123],
      ['position(299)', Whence.position(299), 299], ['latest', Whence.latest(), 300], ['position(300)', Whence.position(300), 300],
    ];
    for (const [what, whence, want] of cases) {
      const c = await open(logDir, whence);
      try {
        assert.is(c.position, want, `${mode} ${what}: position before reading`);
        const first = c.iter().next();
        assert.is(first.done ? 300 : first.value.offset, want, `${mode} ${what}: first record`);
      } finally {
        await c.close();
      }
    }
  };
  try {
    await check('in-process');
  } finally {
    await p.close();
  }
  await check('from the files');
});

test('position below the log start after retention: ERR_POSITION_EXPIRED with details.logStartOffset', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, fileRollSize: 1024, maxTotalBytes: 4096, syncPolicy: SyncPolicy.never(), maxBatchBytes: 1024 });
  const expected: Buffer[] = [];
  let start: number;
  try {
    for (let i = 0; i < 800; i++) {
      p.append(text(i));
      expected.push(Buffer.from(text(i)));
      if (i % 20 === 0) await p.flush();
    }
    await p.flush();
    // Retention by size runs at each roll and whenever the writer is idle, so it may still delete a
    // segment after flush() resolved (the last frames pushed the log past maxTotalBytes): the start
    // is read once the segments fit.
    await waitFor(() => segmentBytes(logDir) <= 4096, 'retention to bring the segments under maxTotalBytes');
    start = p.logStartOffset;
    assert.ok(start > 0, 'retention deleted the first segments');
    assert.is(segmentBases(logDir)[0], start, 'the first stored segment starts at logStartOffset');
    for (const at of [0, 1, start - 1]) {
      const err = await rejectsWith(() => open(logDir, Whence.position(at)), 'ERR_POSITION_EXPIRED');
      const d = (err as unknown as { details: { offset?: number; logStartOffset?: number } }).details;
      assert.is(d.logStartOffset, start, `in-process position(${at}): details.logStartOffset`);
      assert.is(d.offset, at);
      assert.ok(err.message.includes(String(at)) && err.message.includes(String(start)), err.message);
    }
    assertRecords(await readFrom(logDir, Whence.position(start)), expected, start, 'in-process position(start)');
    assertRecords(await readFrom(logDir, Whence.oldest()), expected, start, 'in-process oldest');
  } finally {
    await p.close();
  }
  const fileStart = segmentBases(logDir)[0]!;
  assert.ok(fileStart >= start, 'closing deleted no more than retention allows, and never a later start');
  for (const at of [0, fileStart - 1]) {
    const err = await rejectsWith(() => open(logDir, Whence.position(at)), 'ERR_POSITION_EXPIRED');
    assert.is((err as unknown as { details: { logStartOffset?: number } }).details.logStartOffset, fileStart, `from the files, position(${at})`);
  }
  assertRecords(await readFrom(logDir, Whence.oldest()), expected, fileStart, 'from the files oldest');
});

test('msg.timestamp is the ms-since-epoch time the record was stored', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  const windows: Array<[number, number]> = [];
  try {
    for (let i = 0; i < 5; i++) {
      const before = Date.now();
      p.append(`t${i}`);
      await p.flush();
      windows.push([before, Date.now()]);
    }
    const check = (got: Message[], what: string) => {
      assert.is(got.length, 5);
      got.forEach((m, i) => {
        const [lo, hi] = windows[i]!;
        assert.ok(Number.isFinite(m.timestamp), `${what}: timestamp is a number`);
        assert.ok(m.timestamp >= lo - 1 && m.timestamp <= hi + 1, `${what}: timestamp ${m.timestamp} of record ${i} within [${lo}, ${hi}]`);
        assert.ok(m.timestamp > Date.UTC(2020, 0, 1), `${what}: after 2020 (ms, not seconds)`);
      });
    };
    check(await readFrom(logDir), 'in-process');
    await p.close();
    check(await readFrom(logDir), 'from the files');
  } finally {
    await p.close();
  }
});


test.run();
