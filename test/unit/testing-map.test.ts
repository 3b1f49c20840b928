import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type ErrorCodeValue, ReservedErrorCodes } from '../../src/protocol/errors';

const root = join(__dirname, '..', '..', '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

/** The cells of a markdown table row, trimmed (escaped pipes kept inside cells). */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/** Every table of `md` whose header row starts with `header`, with the heading it sits under. */
function tables(md: string, header: string): Array<{ heading: string; rows: string[][] }> {
  const lines = md.split('\n');
  const found: Array<{ heading: string; rows: string[][] }> = [];
  let heading = '';
  let inCode = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('```')) inCode = !inCode;
    if (!inCode && /^#{1,4} /.test(line)) heading = line.replace(/^#+ /, '');
    if (!line.startsWith(header)) continue;
    const rows: string[][] = [];
    for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(cells(lines[i]!));
    found.push({ heading, rows });
  }
  return found;
}

const unquote = (cell: string): string => cell.replace(/`/g, '').trim();

/** What the docs promise, as the keys docs/TESTING.md must map, by TESTING.md section. */
export function documentedKeys(): Map<string, string[]> {
  const protocol = read('docs/PROTOCOL.md');
  const security = read('docs/SECURITY.md');
  const readme = read('README.md');
  const keys = new Map<string, string[]>();
  const replyCodes = tables(protocol, '| code | name | when | connection |').flatMap((t) => t.rows.map((r) => r[0]!));
  keys.set('Reply codes', replyCodes);
  const closeCodes = tables(protocol, '| code | when | what the client should do |').flatMap((t) => t.rows.map((r) => r[0]!.split(' ')[0]!));
  keys.set('Close codes', [...new Set(closeCodes)]);
  const http: string[] = [];
  for (const { heading, rows } of tables(protocol, '| status | `error` | when |')) {
    const where = heading.startsWith('WebSocket endpoint')
      ? 'handshake'
      : heading.includes('/publish')
        ? 'publish'
        : heading.includes('/history')
          ? 'history'
          : heading.includes('/presence')
            ? 'presence'
            : heading;
    for (const row of rows) {
      const statuses = row[0]!.split('/').map((s) => s.trim());
      const errors = row[1]!.split('/').map(unquote);
      statuses.forEach((status, i) => {
        http.push(`${where} ${status} ${errors[i] ?? errors[0]!}`.trim().replace(/ —$/, ''));
      });
    }
  }
  keys.set('HTTP answers', http);
  keys.set(
    'Limits',
    tables(security, '| limit | option (default) | answer |').flatMap((t) => t.rows.map((r) => r[0]!)),
  );
  const options = tables(readme, '| flag | environment | config key | default | meaning |').flatMap((t) => t.rows.map((r) => unquote(r[0]!)));
  keys.set('Options', options);
  return keys;
}

/** The rows of docs/TESTING.md's mapping tables: section → key → [file, test name fragment]. */
function mapping(): Map<string, Map<string, [string, string]>> {
  const md = read('docs/TESTING.md');
  const result = new Map<string, Map<string, [string, string]>>();
  for (const { heading, rows } of tables(md, '| documented | test file | test |')) {
    const section = result.get(heading) ?? new Map<string, [string, string]>();
    for (const row of rows) section.set(unquote(row[0]!), [unquote(row[1]!), row[2]!]);
    result.set(heading, section);
  }
  return result;
}

test('docs/TESTING.md maps every documented reply code, close code, HTTP answer, limit and option to a test that exists', () => {
  const map = mapping();
  const documented = documentedKeys();
  for (const [section, keys] of documented) {
    assert.ok(keys.length > 0, `the docs still have their ${section} table`);
    const rows = map.get(section);
    assert.ok(rows !== undefined, `docs/TESTING.md has a "## ${section}" mapping table`);
    for (const key of keys) {
      const row = rows.get(key);
      assert.ok(row !== undefined, `docs/TESTING.md, ${section}: no test mapped for "${key}"`);
      const [file, name] = row;
      const reserved = section === 'Reply codes' && ReservedErrorCodes.has(Number(key) as ErrorCodeValue);
      if (reserved) {
        assert.ok(file === '—', `Reply codes "${key}": a reserved code is never sent, so no test can receive it`);
        assert.match(name, /^reserved, never sent: .{20,}/, `Reply codes "${key}": say "reserved, never sent: <why>"`);
        continue;
      }
      if (file === '—') {
        assert.doesNotMatch(
          name,
          /^reserved/,
          `${section} "${key}": only a reply code in ReservedErrorCodes (src/protocol/errors.ts) may be mapped as reserved`,
        );
        assert.match(name, /^not reachable: .{20,}/, `${section} "${key}": a row without a test must say why it cannot be reached`);
        continue;
      }
      assert.ok(existsSync(join(root, file)), `${section} "${key}": ${file} does not exist`);
      const quoted = /"([^"]+)"/.exec(name)?.[1];
      assert.ok(quoted !== undefined, `${section} "${key}": name the test in quotes`);
      assert.ok(read(file).includes(quoted), `${section} "${key}": ${file} has no test named like "${quoted}"`);
    }
  }
});

test('every integration test has a timeout', () => {
  const dir = join(root, 'test', 'integration');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.test.ts'))) {
    const source = readFileSync(join(dir, file), 'utf8');
    const calls = source.match(/^\s*(test|describe)\(\s*(?:'(?:[^'\\]|\\.)*'|`[^`]*`),\s*[^\n]*/gm) ?? [];
    for (const call of calls) assert.match(call, /timeout|TIMEOUT/, `${file}: ${call.trim().slice(0, 80)}… has no timeout`);
  }
});
