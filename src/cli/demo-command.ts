/** `reactive-log demo [--dir path] [--records n]`: append and read back in one process, with progress. */
import { DEMO_DEFAULTS, runDemo } from '../demo/demo.js';
import { UsageError, helped, parse, positionals, wholeNumber, type Command } from './common.js';

export const demoCommand: Command = {
  name: 'demo',
  usage: `reactive-log demo [--dir <path>] [--records <n>]
  Append records to a log while a consumer in the same process reads them back;
  shows progress, verifies every record, prints a summary. Running it again on
  the same directory continues the same log.
  --dir <path>      log directory, created if missing; an existing one must hold
                    a log or be empty (default: ${DEMO_DEFAULTS.dir})
  --records <n>     records to append in this run (default: ${DEMO_DEFAULTS.records.toLocaleString('en-US')})`,
  async run(args) {
    const { values, positionals: got } = parse(args, { dir: { type: 'string' }, records: { type: 'string' } });
    if (await helped(this, values)) return 0;
    positionals(got, []);
    const dir = values.dir ?? DEMO_DEFAULTS.dir;
    if (dir === '') throw new UsageError('--dir needs a path');
    const records = values.records === undefined ? DEMO_DEFAULTS.records : wholeNumber('--records', values.records);
    return runDemo({ dir, records });
  },
};
