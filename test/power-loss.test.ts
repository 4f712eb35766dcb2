/**
 * Simulated power loss (issue 4, item 4). The engine runs in-process on the crash simulator
 * (test/sim/sim-fs.ts): every workload of up to 3 operations (test/sim/workload.ts) under every sync
 * policy is crashed after each of its mutating I/O calls, and each crash point yields several states
 * (unsynced writes all lost, all kept, and seeded random mixes of lost, whole, torn, zero-filled and
 * garbled writes with a prefix of the unsynced directory entries). Each state must recover to a log
 * that lost nothing acknowledged, holds no ghost or torn record, has a sane cursor, recovers
 * idempotently, and takes new records.
 *
 * Replay: SEED=<seed> node --import tsx test/power-loss.test.ts, or one case with
 * SEED=<seed> POWER_LOSS_MIXES=<n> CASE=<policy>:<ops>:<crash point> (printed on failure).
 */
import * as assert from 'uvu/assert';
import { suite, prng } from './kit.js';
import { POLICIES } from './sim/sim-log.js';
import { BATCH_OPS, OPS, checkCrashState, runWorkload, type Op, type StateReport } from './sim/workload.js';
import type { CrashMode } from './sim/sim-fs.js';
import type { SyncPolicy } from '../src/producer/options.js';

const test = suite('power-loss');
const SEED = Number(process.env.SEED ?? Date.now() % 1_000_000);

/**
 * Each crash point's states: all unsynced writes lost, all kept, and POWER_LOSS_MIXES seeded random
 * mixes (default 1; the full soak, test/soak/full-suites.soak.ts, runs 2). POWER_LOSS_RANDOM_STATES
 * sets how many states the random longer workloads check (default 3,000; the soak 6,000).
 */
const MIXES = Number(process.env.POWER_LOSS_MIXES ?? 1);
const RANDOM_STATES = Number(process.env.POWER_LOSS_RANDOM_STATES ?? 3_000);
const MODES: readonly CrashMode[] = ['lose-all', 'keep-all', ...Array.from({ length: MIXES }, () => 'random' as const)];
console.log(`power-loss seed=${SEED}, ${MIXES} random mixes a crash point, ${RANDOM_STATES} random-workload states (replay: SEED=${SEED} POWER_LOSS_MIXES=${MIXES} node --import tsx test/power-loss.test.ts)`);

function workloads(maxLen: number, ops: readonly Op[] = OPS): Op[][] {
  const out: Op[][] = [];
  const grow = (w: Op[]): void => {
    if (w.length > 0) out.push(w);
    if (w.length < maxLen) for (const o of ops) grow([...w, o]);
  };
  grow([]);
  return out;
}

/** A stable number for a case, so that each one's random choices replay on their own. */
function caseSeed(policy: string, ops: readonly Op[], k: number, m: number): number {
  let h = SEED ^ 0x9e3779b9;
  for (const ch of `${policy}:${ops.join('')}:${k}:${m}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return h >>> 0;
}

interface Tally { states: number; truncated: number; removedRoll: number; lostUnacked: number; appended: number }

/** Crashes `ops` after every mutating call, checks every state; returns counts, throws the first violation. */
function crashEverywhere(policyName: string, policy: SyncPolicy, ops: Op[], tally: Tally, only: number | null = null): void {
  const workloadSeed = caseSeed(policyName, ops, 0, 0);
  const calls = runWorkload(ops, policy, Infinity, workloadSeed).fs.mutations;
  for (let k = 1; k <= calls; k++) {
    if (only !== null && k !== only) continue;
    const run = runWorkload(ops, policy, k, workloadSeed);
    for (let m = 0; m < MODES.length; m++) {
      const appendAfter = (tally.states + k) % 8 === 0;
      let r: StateReport;
      try {
        r = checkCrashState(run, MODES[m]!, prng(caseSeed(policyName, ops, k, m)), policy, appendAfter);
      } catch (e) {
        const replay = `SEED=${SEED} POWER_LOSS_MIXES=${MIXES} CASE=${policyName}:${ops.join('')}:${k} node --import tsx test/power-loss.test.ts`;
        throw new Error(`${policyName} [${ops.join(' ')}] crash after call ${k} of ${calls}, mode ${MODES[m]}: ${(e as Error).message}\n  replay: ${replay}`, { cause: e });
      }
      tally.states++;
      if (r.truncated) tally.truncated++;
      if (r.removedRoll) tally.removedRoll++;
      if (r.lostUnacked > 0) tally.lostUnacked++;
      if (appendAfter) tally.appended++;
    }
  }
}

const replayCase = process.env.CASE;

if (replayCase !== undefined) {
  test(`replay ${replayCase}`, () => {
    const [policyName, ops, k] = replayCase.split(':');
    const p = POLICIES.find((x) => x.name === policyName);
    assert.ok(p, `unknown policy ${policyName}`);
    const tally: Tally = { states: 0, truncated: 0, removedRoll: 0, lostUnacked: 0, appended: 0 };
    crashEverywhere(p.name, p.policy, [...(ops ?? '')] as Op[], tally, Number(k));
    assert.ok(tally.states > 0);
  });
} else {
  test('every workload of up to 3 operations, every policy, crashed after every I/O call', () => {
    const tally: Tally = { states: 0, truncated: 0, removedRoll: 0, lostUnacked: 0, appended: 0 };
    const all = workloads(3);
    for (const { name, policy } of POLICIES) for (const ops of all) crashEverywhere(name, policy, ops, tally);
    console.log(`  ${all.length} workloads x ${POLICIES.length} policies: ${tally.states} crash states checked;`
      + ` ${tally.truncated} with a torn tail cut, ${tally.removedRoll} with an interrupted roll removed,`
      + ` ${tally.lostUnacked} that lost unacknowledged records, ${tally.appended} appended to after recovery`);
    assert.ok(tally.states >= 20_000, `only ${tally.states} states`);
    // The states must really exercise recovery, or passing would mean little.
    assert.ok(tally.truncated > 100, `only ${tally.truncated} states had a torn tail`);
    assert.ok(tally.removedRoll > 10, `only ${tally.removedRoll} states had an interrupted roll`);
    assert.ok(tally.lostUnacked > 1000, `only ${tally.lostUnacked} states lost unacknowledged records`);
  });

  test('every workload of up to 3 operations with an appendBatch: each batch is whole or absent in every state', () => {
    const tally: Tally = { states: 0, truncated: 0, removedRoll: 0, lostUnacked: 0, appended: 0 };
    const all = workloads(3, BATCH_OPS).filter((w) => w.includes('B'));
    for (const { name, policy } of POLICIES) for (const ops of all) crashEverywhere(name, policy, ops, tally);
    console.log(`  ${all.length} batch workloads x ${POLICIES.length} policies: ${tally.states} crash states checked;`
      + ` ${tally.truncated} with a torn tail cut, ${tally.lostUnacked} that lost unacknowledged records`);
    assert.ok(tally.truncated > 100, `only ${tally.truncated} states had a torn tail`);
    assert.ok(tally.lostUnacked > 1000, `only ${tally.lostUnacked} states lost unacknowledged records`);
  });

  test('seeded random longer workloads (4 to 8 operations), random crash points', () => {
    const rand = prng(SEED);
    const tally: Tally = { states: 0, truncated: 0, removedRoll: 0, lostUnacked: 0, appended: 0 };
    let runs = 0;
    while (tally.states < RANDOM_STATES) {
      const { name, policy } = POLICIES[Math.floor(rand() * POLICIES.length)]!;
      const pool: readonly Op[] = [...OPS, 'B'];
      const ops = Array.from({ length: 4 + Math.floor(rand() * 5) }, () => pool[Math.floor(rand() * pool.length)]!);
      const calls = runWorkload(ops, policy, Infinity, caseSeed(name, ops, 0, 0)).fs.mutations;
      crashEverywhere(name, policy, ops, tally, 1 + Math.floor(rand() * calls));
      runs++;
    }
    console.log(`  ${runs} random workloads: ${tally.states} crash states checked`);
  });

  test('negative control: a disk that ignores fsync is caught (lost records or ERR_LOG_CORRUPT), never passes', () => {
    // The same oracle on a lying disk must fail; if it passed, the suite could not see a lost fsync.
    let caught = 0;
    let states = 0;
    for (const ops of [['a', 'f'], ['A', 'f'], ['a', 'c'], ['A', 'a', 'f']] as Op[][]) {
      for (const { name, policy } of POLICIES) {
        const run = runWorkload(ops, policy, Infinity, caseSeed(name, ops, 0, 0), true);
        states++;
        try {
          checkCrashState(run, 'lose-all', prng(SEED), policy, false);
        } catch (e) {
          // Either the loss itself, or damage recovery refuses to call a torn tail: never silence.
          const code = (e as { code?: unknown }).code;
          if (/lost acknowledged records|reopen found/.test((e as Error).message) || code === 'ERR_LOG_CORRUPT') caught++;
          else throw e;
        }
      }
    }
    assert.is(caught, states, `the oracle caught ${caught} of ${states} lying-disk runs`);
  });
}

test.run();
