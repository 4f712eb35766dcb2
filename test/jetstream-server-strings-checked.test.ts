/**
 * jetstream() refuses a server string nats.js cannot parse, or that names no port a connection can
 * reach (empty, blank, a space, a NUL or another control character, several servers in one string,
 * a port past 65535 or 0, a WebSocket URL, which the Node.js client refuses), with ERR_INVALID_OPTION naming servers, at the call: no server is
 * contacted. It took them, and the open that used the backend failed with ERR_IO ("Invalid URL").
 * What nats.js takes stays taken: host, host:port, a scheme, user:password@, IPv6, a path, surrounding blanks, an array.
 */
import * as assert from 'uvu/assert';
import { jetstream } from '../dist/jetstream.js';
import { suite, throwsWith } from './kit.js';

const test = suite('jetstream server strings checked');

const BAD: ReadonlyArray<string | string[]> = [
  '', '   ', 'a b', 'nats://127.0.0.1 :4222', 'x\0y', 'ws://127.0.0.1:4222', 'WSS://host', 'nats://127.0.0.1:99999', '127.0.0.1:65536',
  'nats://127.0.0.1:0', 'nats://', ':4222', 'host:port', 'http://[::1', '127.0.0.1:4222,127.0.0.1:4223',
  ['127.0.0.1:4222', 'a b'], ['127.0.0.1:4222', ''],
];

const GOOD: ReadonlyArray<string | string[]> = [
  'nats://127.0.0.1:4222', '127.0.0.1:4222', '127.0.0.1', 'localhost', 'localhost:4222', 'demo.nats.io',
  'tls://demo.nats.io:4443', 'nats://user:pw@127.0.0.1:4222', 'nats://token@127.0.0.1:4222', '[::1]:4222', '::1',
  'nats://[::1]:4222', 'nats://127.0.0.1:4222/', ' nats://127.0.0.1:4222 ', 'nats://127.0.0.1:65535',
  ['nats://127.0.0.1:4222', '127.0.0.1:4223', 'localhost:4224'],
];

test('a server string nats.js cannot use: ERR_INVALID_OPTION naming servers, thrown by jetstream() itself', () => {
  for (const servers of BAD) {
    const err = throwsWith(() => jetstream({ servers, stream: 'orders' }), 'ERR_INVALID_OPTION');
    assert.is((err as Error & { details?: { option?: string } }).details?.option, 'servers', `${JSON.stringify(servers)}: ${err.message}`);
    assert.not.match(err.message, '\0', 'the message carries no NUL');
  }
});

test('what nats.js takes is taken', () => {
  for (const servers of GOOD) {
    try {
      jetstream({ servers, stream: 'orders' });
    } catch (e) {
      assert.unreachable(`${JSON.stringify(servers)} refused: ${(e as Error).message}`);
    }
  }
});

test.run();
