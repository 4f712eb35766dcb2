/** `reactive-log info <dir> [--json]`: inspectLog, as a summary or as JSON. */
import { isDateMs } from '../admin/frame-walk.js';
import { inspectLog, type LogInfo } from '../admin/inspect.js';
import { printable } from '../printable.js';
import { helped, out, parse, positionals, type Command } from './common.js';

export const infoCommand: Command = {
  name: 'info',
  usage: `reactive-log info <dir> [--json]
  Show a log's offsets, size, segments, producer and cursors with their lag.
  Cheap: reads names, indexes, cursor files and frame headers, never every record.
  --json            print the inspectLog object as JSON`,
  async run(args) {
    const { values, positionals: got } = parse(args, { json: { type: 'boolean' } });
    if (await helped(this, values)) return 0;
    const [dir] = positionals(got, ['dir']);
    const info = await inspectLog(dir!);
    await out(values.json === true ? `${JSON.stringify(info, null, 2)}\n` : formatInfo(info));
    return 0;
  },
};

const holder = (h: { pid: number; host: string } | null): string => (h === null ? 'none' : `pid ${h.pid} on ${printable(h.host)}`);
const time = (ms: number | null): string => (ms === null ? '-' : isDateMs(ms) ? new Date(ms).toISOString() : `invalid (${ms})`);

/** What `info` adds to a cursor past the end of the records: its consumer cannot open. */
const pastEndNote = (end: number): string => `  (past the end of the log (${end}): records it committed are lost; its consumer cannot open, reset it or run repair)`;

/** The text form of `info`. */
export function formatInfo(i: LogInfo): string {
  const lines = [
    `log start      ${i.logStartOffset}`,
    `next offset    ${i.nextOffset}`,
    `durable offset ${i.durableOffset}`,
    `records        ${i.nextOffset - i.logStartOffset}`,
    `bytes          ${i.totalBytes}`,
    `producer       ${holder(i.producer)}`,
    `segments       ${i.segments.length}`,
    ...i.segments.map((s) => `  ${String(s.baseOffset).padStart(12)}  ${String(s.records).padStart(10)} records  ${String(s.bytes).padStart(12)} bytes  oldest ${time(s.oldestTimestamp)}`),
    `cursors        ${i.cursors.length}`,
    ...i.cursors.map((c) => `  ${printable(c.id)}  at ${c.committedOffset}  lag ${c.lag.records} records, ${c.lag.bytes} bytes, ${c.lag.ms} ms  held by ${holder(c.owner)}${c.pastEnd ? pastEndNote(i.nextOffset) : ''}`),
  ];
  return `${lines.join('\n')}\n`;
}
