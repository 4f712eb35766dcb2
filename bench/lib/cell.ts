/**
 * One cell in a fresh process (run.ts inFreshProcess): calls the export `fn` of the workload module
 * `module` with `arg` and prints its result as one JSON line.
 *
 *   node --import tsx bench/lib/cell.ts '{"module": "file:///…/latency.ts", "fn": "iteratorLatencyRun", "arg": {…}}'
 */
const { module, fn, arg } = JSON.parse(process.argv[2] ?? '{}') as { module: string; fn: string; arg: unknown };
const run = ((await import(module)) as Record<string, (a: unknown) => unknown>)[fn];
if (typeof run !== 'function') throw new Error(`cell: ${module} exports no function ${fn}`);
console.log(JSON.stringify(await run(arg)));
