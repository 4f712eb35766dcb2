/** `reactive-log unlock <dir> [--dry-run] [--json]`: who holds the owner locks; removes leftover lock files. */
import { unlockLog, type LockFileReport } from '../admin/lock-admin.js';
import { printable } from '../printable.js';
import { helped, out, parse, positionals, type Command } from './common.js';

export const unlockCommand: Command = {
  name: 'unlock',
  usage: `reactive-log unlock <dir> [--dry-run] [--json]
  Show who holds the producer lock and each cursor lock, and remove lock files whose owner is
  gone. A lock a live handle holds is never touched.
  --dry-run         only show; change nothing
  --json            print the report as JSON`,
  async run(args) {
    const { values, positionals: got } = parse(args, { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } });
    if (await helped(this, values)) return 0;
    const [dir] = positionals(got, ['dir']);
    const report = await unlockLog(dir!, { dryRun: values['dry-run'] === true });
    await out(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatUnlock(report, values['dry-run'] === true));
    return 0;
  },
};

function formatUnlock(report: readonly LockFileReport[], dryRun: boolean): string {
  if (report.length === 0) return 'no lock files\n';
  return report.map((r) => {
    const who = r.owner === null ? 'no owner named' : `pid ${r.owner.pid} on ${printable(r.owner.host)}`;
    if (r.state === 'held') return `${printable(r.file)}  held by ${who}\n`;
    return `${printable(r.file)}  leftover (last owner ${who}, gone): ${r.removed ? 'removed' : dryRun ? 'would be removed' : 'kept'}\n`;
  }).join('');
}
