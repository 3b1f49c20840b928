import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runFuzz } from '../../scripts/fuzz';
import { ErrorCode } from '../../src/protocol/opcodes';
import { ServerProcess } from '../helpers/server-process';
import { TestClient, httpPublish } from '../helpers/test-client';

let server: ServerProcess;
before(async () => {
  server = await ServerProcess.start(['--port', '0', '--host', '127.0.0.1', '--rate-limit-messages', '0', '--rate-limit-bytes', '0']);
});
after(async () => {
  await server.stop();
});

test('a bounded fuzz run: only documented answers, the process and its other clients unaffected', { timeout: 120_000 }, async (t) => {
  const bystander = await TestClient.connect(server.wsUrl('?channels=fuzz:watch'));
  const report = await runFuzz(server.wsUrl(), 6000, 20261123);
  assert.equal(report.crashes, 0);
  assert.equal(report.frames > 0, true);
  assert.ok(report.answers.error > report.frames / 2, `most random frames get error replies (${report.answers.error} of ${report.frames})`);
  assert.equal(report.answers.other, 0, 'no frame kind other than replies');
  t.diagnostic(`error codes: ${JSON.stringify(report.errorCodes)}`);
  // Malformed frames, unknown opcodes, bad channels and oversized data are what random frames make.
  for (const code of [ErrorCode.BadRequest, ErrorCode.UnknownCommand, ErrorCode.InvalidChannel]) {
    assert.ok((report.errorCodes[code] ?? 0) > 0, `error ${code} seen`);
  }
  // Only codes a client's own frame can cause: never 500 (internal), 105 (the memory broker is up),
  // 106 (reserved, never sent) nor 109 (rate limits are off here).
  const allowed = new Set<number>([ErrorCode.BadRequest, ErrorCode.UnknownCommand, ErrorCode.InvalidChannel, ErrorCode.MessageTooLarge,
    ErrorCode.TooManySubscriptions, ErrorCode.SubscriptionInProgress, ErrorCode.Forbidden, ErrorCode.InvalidToken]);
  for (const code of Object.keys(report.errorCodes).map(Number)) assert.ok(allowed.has(code), `unexpected error code ${code}`);
  const total = Object.values(report.errorCodes).reduce((a, b) => a + b, 0);
  assert.equal(total, report.answers.error, 'every error reply has a code');
  assert.equal((await httpPublish(server.http, 'fuzz:watch', 'alive')).status, 200);
  assert.deepEqual((await bystander.waitPublications(1))[0]!.data, Buffer.from('alive'));
  assert.equal(server.stderr, '', 'nothing on stderr');
  await bystander.close();
});
