import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ErrorCode, type ErrorCodeValue, type Failure, Failures, ReservedErrorCodes, statusLine } from '../../src/protocol/errors';

const root = join(__dirname, '..', '..', '..');
const protocol = readFileSync(join(root, 'docs', 'PROTOCOL.md'), 'utf8');
const deployment = readFileSync(join(root, 'docs', 'DEPLOYMENT.md'), 'utf8');
const failures: Failure[] = Object.values(Failures);

/** The body rows of every markdown table whose header row starts with `header`, as cell arrays. */
function tableRows(text: string, header: string): string[][] {
  const rows: string[][] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!(lines[i] ?? '').startsWith(header)) continue;
    for (let j = i + 2; j < lines.length && (lines[j] ?? '').startsWith('|'); j++) {
      rows.push(
        (lines[j] ?? '')
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim()),
      );
    }
  }
  return rows;
}

const sorted = (values: Iterable<number>): number[] => [...new Set(values)].sort((a, b) => a - b);

test('the reply codes in PROTOCOL.md are exactly the catalogue reply codes and the reserved ones', () => {
  const rows = tableRows(protocol, '| code | name | when |');
  assert.ok(rows.length > 0, 'the reply code table was found');
  const sent = failures.flatMap((f) => (f.reply === undefined ? [] : [f.reply]));
  assert.deepEqual(sorted(rows.map(([code]) => Number(code))), sorted([...sent, ...ReservedErrorCodes]));
  for (const [code, name] of rows) {
    const reserved = ReservedErrorCodes.has(Number(code) as ErrorCodeValue);
    assert.equal(
      /\(reserved, never sent\)$/.test(name ?? ''),
      reserved,
      `PROTOCOL.md row ${code}: its name ends "(reserved, never sent)" exactly when ReservedErrorCodes (src/protocol/errors.ts) lists it`,
    );
  }
});

test('no catalogue failure is answered with a reserved reply code', () => {
  assert.deepEqual([...ReservedErrorCodes], [ErrorCode.ShuttingDown]);
  for (const [name, f] of Object.entries(Failures)) {
    const reply: number | undefined = 'reply' in f ? f.reply : undefined;
    assert.ok(reply === undefined || !ReservedErrorCodes.has(reply as ErrorCodeValue), `${name} replies with reserved code ${reply}: choose a new code`);
  }
});

test('the close codes the server sends in PROTOCOL.md are exactly the catalogue close codes', () => {
  const rows = tableRows(protocol, '| code | when | what the client should do |');
  assert.ok(rows.length > 0, 'the close code table was found');
  // 1006 rows describe closes without a close frame: the server sends no code for them.
  const documented = rows
    .map(([code]) => code ?? '')
    .filter((code) => /^\d+$/.test(code))
    .map(Number);
  assert.deepEqual(sorted(documented), sorted(failures.flatMap((f) => (f.close === undefined ? [] : [f.close]))));
});

test('every HTTP error in PROTOCOL.md is a catalogue entry, and every catalogue HTTP error is documented', () => {
  const documented = new Set<string>();
  for (const [status, error] of tableRows(protocol, '| status | `error` | when |')) {
    if (error === '—') continue;
    const statuses = (status ?? '').split(' / ');
    const errors = (error ?? '').split(' / ').map((e) => e.replaceAll('`', ''));
    assert.equal(statuses.length, errors.length, `row ${status} | ${error}`);
    for (const [i, s] of statuses.entries()) documented.add(`${s} ${errors[i]}`);
  }
  // Answers described in running text rather than tables.
  for (const match of protocol.matchAll(/`(\d{3}) (?:\{"error":"([a-z_]+)"|([a-z_]+)`)/g)) documented.add(`${match[1]} ${match[2] ?? match[3]}`);
  for (const match of deployment.matchAll(/`(\d{3}) ([a-z_]+)`/g)) documented.add(`${match[1]} ${match[2]}`);
  const catalogued = new Set(failures.flatMap((f) => (f.http === undefined ? [] : [`${f.http.status} ${f.http.error}`])));
  for (const pair of documented) assert.ok(catalogued.has(pair), `${pair} is documented but not in src/protocol/errors.ts`);
  for (const pair of catalogued) assert.ok(documented.has(pair), `${pair} is in the catalogue but not documented`);
});

test('every catalogue HTTP status has a status line', () => {
  for (const f of failures) if (f.http !== undefined) assert.match(statusLine(f.http.status), /^\d{3} [A-Z]/);
  assert.equal(statusLine(200), '200 OK');
  assert.equal(statusLine(503), '503 Service Unavailable');
  assert.throws(() => statusLine(418), /STATUS_TEXT/);
});
