/** `reactive-log verify <dir> [--json]`: the offline check of a whole log directory (verifyLog). */
import { verifyLog } from '../verify/verify-log.js';
import { formatVerifyReport } from '../verify/verify-format.js';
import { damageLine, helped, out, parse, positionals, type Command } from './common.js';
import { ProgressBar } from './progress-bar.js';

export const verifyCommand: Command = {
  name: 'verify',
  usage: `reactive-log verify <dir> [--json]
  Read every segment, frame checksum, index entry, cursor file and durable.offset
  of a log directory and report what is damaged. Read-only: safe beside a running
  producer. Exit code 0 when no damage was found (warnings allowed), 1 on damage
  (the report on stdout, one line ending with ERR_LOG_CORRUPT on stderr).
  --json            print the report as JSON`,
  async run(args) {
    const { values, positionals: got } = parse(args, { json: { type: 'boolean' } });
    if (await helped(this, values)) return 0;
    const [dir] = positionals(got, ['dir']);
    const bar = new ProgressBar('verify');
    const report = await verifyLog(dir!, { onProgress: (done, listed) => bar.update(done, listed, 'segments') });
    bar.end();
    await out(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatVerifyReport(report));
    return report.ok ? 0 : damageLine(this, report);
  },
};
