/** `reactive-log repair <dir> [--dry-run] [--backup <dir>] [--json]`: cuts a damaged log back to its longest valid prefix (repairLog). */
import { repairLog, type RepairReport } from '../admin/repair.js';
import { printable } from '../printable.js';
import { verifyLog } from '../verify/verify-log.js';
import { damageLine, helped, out, parse, positionals, type Command } from './common.js';
import { ProgressBar } from './progress-bar.js';

export const repairCommand: Command = {
  name: 'repair',
  usage: `reactive-log repair <dir> [--dry-run] [--backup <dir>] [--json]
  Cut a damaged log back to its longest valid prefix so that it opens again: everything from the
  first invalid segment header, gap or frame on is removed, after a copy of every removed byte is
  kept in the backup directory; durable.offset and cursors past the cut are set to it. A damaged
  or missing index of a sealed segment is rebuilt from its frames. Refused while
  a producer holds the log. Exit code 0 when the log verifies without damage afterwards.
  --dry-run         only show what would be done; change nothing
  --backup <dir>    where removed bytes go (default: <dir>.repair-<time> beside the log)
  --json            print the report as JSON`,
  async run(args) {
    const { values, positionals: got } = parse(args, { 'dry-run': { type: 'boolean' }, backup: { type: 'string' }, json: { type: 'boolean' } });
    if (await helped(this, values)) return 0;
    const [dir] = positionals(got, ['dir']);
    const bar = new ProgressBar('repair: backup');
    const report = await repairLog(dir!, {
      dryRun: values['dry-run'] === true, onProgress: (done, total) => bar.update(done, total, 'bytes'), ...(values.backup === undefined ? {} : { backupDir: values.backup }),
    });
    bar.end();
    const check = new ProgressBar('repair: verify');
    const after = report.dryRun ? null : await verifyLog(report.dir, { onProgress: (done, listed) => check.update(done, listed, 'segments') });
    check.end();
    await out(values.json === true ? `${JSON.stringify({ ...report, verifiedAfter: after === null ? null : { ok: after.ok, damage: after.damageCount } }, null, 2)}\n` : formatRepair(report, after?.ok ?? null));
    return after === null || after.ok ? 0 : damageLine(this, after);
  },
};

function formatRepair(r: RepairReport, okAfter: boolean | null): string {
  if (r.cut === null && r.actions.length === 0) return 'no damage that recovery refuses: nothing to repair\n';
  const lines = [
    ...r.cut === null ? ['no record is cut'] : [
      `first damage: ${printable(r.cut.file)} at byte ${r.cut.position}: ${printable(r.cut.reason)}`,
      `the log ${r.dryRun ? 'would end' : 'ends'} at offset ${r.cut.offset}`,
    ],
    ...r.actions.map((a) => `  ${r.dryRun ? 'would ' : ''}${a.action} ${printable(a.file)}${a.bytes > 0 ? ` (${a.bytes} bytes)` : ''}: ${printable(a.detail)}`),
  ];
  if (r.backupDir !== null) lines.push(`removed and replaced bytes copied to ${printable(r.backupDir)}`);
  if (okAfter !== null) lines.push(okAfter ? 'verify: no damage' : 'verify: damage remains (run reactive-log verify for the details)');
  // Last, where it is seen (docs/cli.md): what the user must act on before producers append again.
  if (r.cut !== null && r.actions.some((a) => a.action === 'reset-cursor' || a.action === 'rewrite-durable-hint')) {
    lines.push(`offsets from ${r.cut.offset} on are handed out again, to the records appended next: an offset (or a (logId, offset) key) kept from before the repair at or past ${r.cut.offset} names another record then`);
  }
  return `${lines.join('\n')}\n`;
}
