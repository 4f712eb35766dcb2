#!/usr/bin/env node
// The package as a new user gets it: packs the tarball (`npm pack` of the built dist/), installs it
// into three fresh projects in a temporary folder (ESM, CommonJS, and TypeScript with module
// nodenext, type-checked by this repository's TypeScript), and runs in each a producer (append with
// and without a key, flush), a consumer (reads every record back and checks it) and a pool (a
// processing call with { workers: 2 } and a handler module that checks each record it gets), then
// `reactive-log verify` on the log, through the bin link npm made.
// Before the projects, the tarball's pages: a shipped page that names a page of docs/ left out of
// the package must say, in the same section, that it is in the source repository (a user reading
// node_modules/reactive-log/docs has no other way to know where it is). CHANGELOG.md is history, as
// written at the time, and is not checked.
// The tarball's dependencies come from the registry. The temporary folder is removed at the end,
// whatever happened. Exit status 0 when the pages and all three projects pass.
//
//   npm run test:package          (builds first)
//   node scripts/pack-smoke.mjs   (packs dist/ as it is)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const requireHere = createRequire(join(root, 'package.json'));
const tsc = requireHere.resolve('typescript/bin/tsc');
const typesNodeVersion = JSON.parse(readFileSync(requireHere.resolve('@types/node/package.json'), 'utf8')).version;
const RECORDS = 1000;

/** Runs `cmd` in `cwd`; throws with its output if it fails; returns its stdout. */
function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 5 * 60_000 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${r.error?.message ?? `exit ${r.status ?? r.signal}`}\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** The program each project runs; `head` differs per module system, the rest is shared. */
function body(handlerRef, loadJetstream) {
  return `
const RECORDS = ${RECORDS};
const logDir = join(process.cwd(), 'log'); // the project's folder: the runs start there

// Producer: append (with and without a key), flush, a second opener refused, close.
const producer = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
for (let i = 0; i < RECORDS; i++) {
  const offset = i % 2 === 0 ? producer.append(\`rec-\${i}\`, { key: \`k\${i}\` }) : producer.append(\`rec-\${i}\`);
  assert.equal(offset, i);
}
await producer.flush();
assert.equal(producer.durableOffset, RECORDS);
let second = null;
try {
  await Producer.open({ logDir });
} catch (e) {
  second = e;
}
assert.ok(isLogError(second) && second.code === 'ERR_LOG_LOCKED', \`a second producer: \${String(second)}\`);
await producer.close();

// Consumer: every record back, in order, with its key.
const consumer = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
let read = 0;
for (const msg of consumer.iter()) {
  assert.equal(msg.offset, read);
  assert.equal(Buffer.from(msg.data).toString(), \`rec-\${read}\`);
  assert.equal(msg.key === null ? null : Buffer.from(msg.key).toString(), read % 2 === 0 ? \`k\${read}\` : null);
  read++;
}
assert.equal(read, RECORDS);
await consumer.close();

// Pool: two worker threads run the handler module, which skips a record whose data is not its own.
const pooled = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('smoke') });
const summary = await pooled.nonblockingProcess(null, ${handlerRef}, { workers: 2 });
assert.deepEqual(summary, { committed: RECORDS, skipped: 0, retried: 0, stoppedBy: 'end' });
assert.equal(pooled.committedOffset, RECORDS);
await pooled.close();

// The JetStream subpath loads without its optional peer dependencies (not installed here: a
// local-only user installs nothing more); opening a handle on it fails with a coded LogError that
// names them, while the main entry above ran.
const { jetstream } = ${loadJetstream};
let jsError = null;
try {
  await Producer.open({ backend: jetstream({ servers: 'nats://127.0.0.1:4222', stream: 'smoke' }) });
} catch (e) {
  jsError = e;
}
assert.ok(isLogError(jsError) && jsError.code === 'ERR_INVALID_OPTION' && /install them \\(npm install @nats-io\\/transport-node/.test(jsError.message),
  \`reactive-log/jetstream without @nats-io: \${String(jsError)}\`);
console.log(\`producer appended \${RECORDS}, consumer read \${read}, pool committed \${summary.committed}, reactive-log/jetstream asks for @nats-io\`);
`;
}

const HANDLER_CHECK = `(msg) => (Buffer.from(msg.data).toString() === \`rec-\${msg.offset}\` ? 'commit' : 'skip')`;

const projects = [
  {
    name: 'esm',
    packageJson: { type: 'module' },
    files: {
      'handler.mjs': `export default ${HANDLER_CHECK};\n`,
      'main.mjs': `import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Producer, Consumer, ConsumerStyle, Whence, SyncPolicy, isLogError } from 'reactive-log';
${body("new URL('./handler.mjs', import.meta.url)", "await import('reactive-log/jetstream')")}`,
    },
    main: 'main.mjs',
  },
  {
    name: 'cjs',
    packageJson: { type: 'commonjs' },
    files: {
      'handler.js': `module.exports = ${HANDLER_CHECK};\n`,
      'main.js': `const assert = require('node:assert/strict');
const { join } = require('node:path');
const { Producer, Consumer, ConsumerStyle, Whence, SyncPolicy, isLogError } = require('reactive-log');

(async () => {
${body("join(__dirname, 'handler.js')", "require('reactive-log/jetstream')")}
})().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
`,
    },
    main: 'main.js',
  },
  {
    name: 'typescript',
    packageJson: { type: 'module' },
    devDependencies: [`@types/node@${typesNodeVersion}`],
    files: {
      'tsconfig.json': JSON.stringify({
        compilerOptions: {
          module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true,
          skipLibCheck: false, types: ['node'], outDir: 'out', rootDir: 'src',
        },
        include: ['src'],
      }, null, 2),
      'src/handler.ts': `import type { Handler } from 'reactive-log';

const handler: Handler = ${HANDLER_CHECK};
export default handler;
`,
      'src/main.ts': `import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Producer, Consumer, ConsumerStyle, Whence, SyncPolicy, isLogError, type Message, type ProcessSummary } from 'reactive-log';
import type { JetStreamBackendOptions } from 'reactive-log/jetstream';

const typed: (m: Message) => number = (m) => m.offset;
void typed;
const jsOptions: JetStreamBackendOptions = { servers: 'nats://127.0.0.1:4222', stream: 'orders', replicas: 3 };
void jsOptions;
${body("new URL('./handler.js', import.meta.url)", "await import('reactive-log/jetstream')").replace('let second = null;', 'let second: unknown = null;').replace('let jsError = null;', 'let jsError: unknown = null;').replace('const summary = ', 'const summary: ProcessSummary = ')}`,
    },
    build: [process.execPath, [tsc, '-p', '.']],
    main: 'out/main.js',
  },
];

/**
 * The shipped pages' mentions of pages of docs/ the tarball leaves out, each outside a section (the
 * text from one heading to the next) that says "source repository": one line per mention.
 */
function unshippedPageMentions(packedPaths) {
  const shipped = new Set(packedPaths);
  const left = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md') && !shipped.has(`docs/${f}`));
  const found = [];
  for (const file of packedPaths.filter((f) => f.endsWith('.md') && f !== 'CHANGELOG.md')) {
    const sections = readFileSync(join(root, file), 'utf8').replace(/```[\s\S]*?```/g, '').split(/^(?=#{1,6} )/m);
    for (const section of sections) {
      if (/source repository/.test(section.replace(/\s+/g, ' '))) continue;
      for (const page of left) {
        if (new RegExp(`(?<![\\w-])${page.replace('.', '\\.')}`).test(section)) found.push(`${file}, section "${section.split('\n')[0].slice(0, 60)}": names ${page}, which the package leaves out, without saying it is in the source repository`);
      }
    }
  }
  return found;
}

const work = mkdtempSync(join(tmpdir(), 'rlog-pack-smoke-'));
let failed = 0;
try {
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root));
  const tarball = join(work, packed[0].filename);
  console.log(`packed ${packed[0].filename}: ${packed[0].size} bytes, ${packed[0].entryCount} files`);
  const mentions = unshippedPageMentions(packed[0].files.map((f) => f.path));
  if (mentions.length > 0) {
    failed++;
    console.error(`FAIL pages: ${mentions.length} mention(s) of pages not in the package:\n  ${mentions.join('\n  ')}`);
  } else console.log('ok pages: every page of docs/ the shipped pages name is shipped, or said to be in the source repository');
  for (const p of projects) {
    const dir = join(work, p.name);
    try {
      mkdirSync(join(dir, 'src'), { recursive: true });
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `smoke-${p.name}`, private: true, ...p.packageJson }, null, 2));
      for (const [file, text] of Object.entries(p.files)) writeFileSync(join(dir, file), text);
      run('npm', ['install', '--no-audit', '--no-fund', tarball, ...(p.devDependencies ?? [])], dir);
      if (p.build) run(p.build[0], p.build[1], dir);
      const out = run(process.execPath, [p.main], dir);
      // The command the package installs, through its bin link, on the log the program wrote.
      run(join(dir, 'node_modules', '.bin', 'reactive-log'), ['verify', 'log'], dir);
      console.log(`ok ${p.name}: ${out.trim()}; reactive-log verify passes`);
    } catch (e) {
      failed++;
      console.error(`FAIL ${p.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(failed === 0 ? 'pack-smoke: the shipped pages and the ESM, CommonJS and TypeScript projects pass' : `pack-smoke: ${failed} of ${projects.length + 1} checks failed (the shipped pages and ${projects.length} projects)`);
process.exit(failed === 0 ? 0 : 1);
