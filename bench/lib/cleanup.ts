/**
 * Everything the benchmark must leave behind clean: its temporary directory (segment files of up to
 * a GiB) and its child processes. cleanupAll() runs at the end, on error, on SIGINT/SIGTERM and at exit.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const dirs: string[] = [];
const children = new Set<ChildProcess>();
let installed = false;

/** A fresh temporary directory under `base`, removed by cleanupAll(). */
export function tempRoot(base: string): string {
  install();
  const d = mkdtempSync(join(base, 'rlog-bench-'));
  dirs.push(d);
  return d;
}

/** Kills `child` (SIGKILL) at cleanup if it still runs. */
export function trackChild(child: ChildProcess): void {
  install();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export function cleanupAll(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      cleanupAll();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}
