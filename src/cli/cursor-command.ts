/** `reactive-log cursor list|reset|delete`: the transactional cursors of a log (inspectLog, resetCursor, deleteCursor). */
import { deleteCursor, resetCursor, type ResetTarget } from '../admin/cursor-admin.js';
import { inspectLog } from '../admin/inspect.js';
import { printable } from '../printable.js';
import { UsageError, helped, message, out, parse, positionals, timeArg, wholeNumber, type Command } from './common.js';

export const cursorCommand: Command = {
  name: 'cursor',
  usage: `reactive-log cursor list <dir> [--json]
       reactive-log cursor reset <dir> <id> (--to <oldest|latest|offset> | --to-time <time>) [--clear-state] [--json]
       reactive-log cursor delete <dir> <id> [--json]
  The transactional cursors of a log. <id> is a clientTx consumer id, or @global
  for the globalTx cursor. reset and delete fail (exit code 1, ERR_CURSOR_LOCKED)
  while a consumer holds the cursor open.
  list                 each cursor's offset, lag and holder
  reset                move the cursor; it keeps its state value unless --clear-state
    --to <target>      oldest, latest (the durable end) or an offset
    --to-time <time>   the first record stored at or after <time> (ms since the
                       epoch, or ISO 8601 such as 2026-12-03T18:00:00Z)
  delete               remove the cursor (its consumer starts from the oldest record next time)
  --json               print data as JSON`,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === '-h' || sub === '--help') {
      await helped(this, { help: true });
      return 0;
    }
    if (sub === 'list') return list(rest, this);
    if (sub === 'reset') return reset(rest, this);
    if (sub === 'delete') return remove(rest, this);
    throw new UsageError(sub === undefined ? 'missing list, reset or delete' : `unknown subcommand ${JSON.stringify(sub)}`);
  },
};

async function list(args: string[], cmd: Command): Promise<number> {
  const { values, positionals: got } = parse(args, { json: { type: 'boolean' } });
  if (await helped(cmd, values)) return 0;
  const [dir] = positionals(got, ['dir']);
  const { cursors, nextOffset } = await inspectLog(dir!);
  if (values.json === true) {
    await out(`${JSON.stringify(cursors, null, 2)}\n`);
    return 0;
  }
  const holder = (h: { pid: number; host: string } | null): string => (h === null ? '-' : `pid ${h.pid} on ${printable(h.host)}`);
  await out(cursors.map((c) => `${printable(c.id)}\t${c.committedOffset}\tlag ${c.lag.records} records, ${c.lag.bytes} bytes, ${c.lag.ms} ms\theld by ${holder(c.owner)}${c.pastEnd ? `\tpast the end of the log (${nextOffset})` : ''}\n`).join(''));
  return 0;
}

function target(values: { to?: string | undefined; 'to-time'?: string | undefined }): ResetTarget {
  const to = values.to;
  const toTime = values['to-time'];
  if ((to === undefined) === (toTime === undefined)) throw new UsageError('reset takes exactly one of --to and --to-time');
  if (toTime !== undefined) return { timestamp: timeArg('--to-time', toTime) };
  return to === 'oldest' || to === 'latest' ? to : wholeNumber('--to', to!);
}

async function reset(args: string[], cmd: Command): Promise<number> {
  const { values, positionals: got } = parse(args, {
    to: { type: 'string' }, 'to-time': { type: 'string' }, 'clear-state': { type: 'boolean' }, json: { type: 'boolean' },
  });
  if (await helped(cmd, values)) return 0;
  const [dir, id] = positionals(got, ['dir', 'id']);
  const r = await resetCursor(dir!, id!, { to: target(values), state: values['clear-state'] === true ? 'clear' : 'keep' });
  if (values.json === true) await out(`${JSON.stringify(r)}\n`);
  else message(`cursor ${r.id} moved from ${r.from ?? 'a damaged file'} to ${r.to}`);
  return 0;
}

async function remove(args: string[], cmd: Command): Promise<number> {
  const { values, positionals: got } = parse(args, { json: { type: 'boolean' } });
  if (await helped(cmd, values)) return 0;
  const [dir, id] = positionals(got, ['dir', 'id']);
  const r = await deleteCursor(dir!, id!);
  if (values.json === true) await out(`${JSON.stringify(r)}\n`);
  else message(`cursor ${r.id} deleted (it was ${r.committedOffset === null ? 'a damaged file' : `at ${r.committedOffset}`})`);
  return 0;
}
