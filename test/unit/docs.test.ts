import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pack } from 'msgpackr';
import { OPTION_SPECS } from '../../src/config/options';
import { encodeEnvelope, parseEnvelope } from '../../src/protocol/envelope';
import { decodeCommand, encodeError, encodeReply, encodeResync, encodeSubscribed } from '../../src/protocol/commands';
import { ErrorCode } from '../../src/protocol/opcodes';
import { buildPublicationFrame } from '../../src/protocol/publication-frame';

const root = join(__dirname, '..', '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const protocol = readFileSync(join(root, 'docs', 'PROTOCOL.md'), 'utf8');
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex').replace(/(..)(?!$)/g, '$1 ');

test('README documents every option with its flag, environment variable and config key', () => {
  for (const spec of OPTION_SPECS) {
    assert.ok(readme.includes(`\`--${spec.flag}\``), `--${spec.flag}`);
    assert.ok(readme.includes(`\`${spec.env}\``), spec.env);
    assert.ok(readme.includes(`\`${spec.key}\``), spec.key);
  }
});

test('PROTOCOL.md documents every error code', () => {
  for (const code of Object.values(ErrorCode)) assert.match(protocol, new RegExp(`\\| ${code} \\|`), `error code ${code}`);
});

test('the hex examples in PROTOCOL.md are what the code reads and writes', () => {
  const frame = (env: Buffer): Buffer => {
    const view = parseEnvelope(env);
    assert.notEqual(typeof view, 'string');
    return buildPublicationFrame('news', env, view as Exclude<typeof view, string>);
  };
  const produced: Uint8Array[] = [
    encodeReply(1),
    encodeError(1, ErrorCode.InvalidChannel, 'bad'),
    frame(encodeEnvelope(Buffer.from('hi'))),
    frame(pack([1, Buffer.from('hi'), 42])),
    encodeEnvelope(Buffer.from('hi')),
    encodeEnvelope('hi'),
    encodeSubscribed('news', { offset: 5, epoch: 'abc', recovered: true }),
    encodeResync('news', 'epoch changed'),
  ];
  for (const bytes of produced) assert.ok(protocol.includes(hex(bytes)), `missing ${hex(bytes)}`);
  const commands = ['93 01 01 a4 6e 65 77 73', '95 01 06 a4 6e 65 77 73 05 a3 61 62 63', '93 02 02 a4 6e 65 77 73', '94 03 03 a4 6e 65 77 73 c4 02 68 69', '92 04 05', '93 05 07 a6 65 79 4a 2e 2e 2e'];
  for (const example of commands) {
    assert.ok(protocol.includes(example), example);
    decodeCommand(Buffer.from(example.replace(/ /g, ''), 'hex'), 100);
  }
});
