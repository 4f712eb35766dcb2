// npm run bench:setup: installs what the benchmark's peers need, outside the library's own
// dependencies: redis-server and nats-server from Debian's packages (when missing and apt-get is
// there and we are root), and the npm packages of bench/peers (npm ci against its lock file).
// The benchmark runs this itself when a peer is missing. Anything that fails is reported and the exit
// code is 1; the benchmark then stops, naming what is missing.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const peers = fileURLToPath(new URL('../bench/peers/', import.meta.url));
const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`]).status === 0;
const run = (cmd, args, opts = {}) => {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  return spawnSync(cmd, args, { stdio: 'inherit', ...opts }).status === 0;
};

const wanted = [['redis-server', 'redis-server'], ['nats-server', 'nats-server']].filter(([bin]) => !has(bin)).map(([, pkg]) => pkg);
if (wanted.length > 0) {
  if (!has('apt-get') || process.getuid?.() !== 0) {
    console.log(`not installed: ${wanted.join(', ')} (${has('apt-get') ? `run: sudo apt-get install ${wanted.join(' ')}` : 'no apt-get here'})`);
    process.exitCode = 1;
  } else {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (!run('apt-get', ['update', '-qq'], { env }) || !run('apt-get', ['install', '-y', '-qq', ...wanted], { env })) {
      console.log(`apt-get could not install ${wanted.join(', ')}`);
      process.exitCode = 1;
    }
  }
} else console.log('redis-server and nats-server: installed');

if (!run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: peers })) {
  console.log('npm ci in bench/peers failed');
  process.exitCode = 1;
}
