/**
 * README's "Errors" table has a row for every code the package exports in ErrorCode, and names no code
 * that is not one: a code added without its row, or a row left for a code taken away, fails here.
 */
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { ErrorCode } from '../dist/index.js';
import { suite } from './kit.js';

const test = suite('readme-error-table');

test('every ErrorCode value has a row in the README table, and every row is an ErrorCode value', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const rows = [...readme.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]!);
  const codes: string[] = Object.values(ErrorCode);
  assert.ok(codes.length > 10, `ErrorCode holds the codes (${codes.length})`);
  assert.equal(codes.filter((c) => !rows.includes(c)), [], 'codes without a row in README.md');
  assert.equal(rows.filter((r) => !codes.includes(r)), [], 'rows naming no ErrorCode value');
  assert.equal(rows.filter((r, i) => rows.indexOf(r) !== i), [], 'codes with two rows');
});

test.run();
