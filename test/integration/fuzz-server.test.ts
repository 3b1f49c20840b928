import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runFuzz } from '../../scripts/fuzz';
import { ServerProcess } from '../helpers/server-process';
import { TestClient, httpPublish } from '../helpers/test-client';

let server: ServerProcess;
before(async () => {
  server = await ServerProcess.start(['--port', '0', '--host', '127.0.0.1', '--rate-limit-messages', '0', '--rate-limit-bytes', '0']);
});
after(async () => {
  await server.stop();
});

test('a bounded fuzz run: only documented answers, the process and its other clients unaffected', async () => {
  const bystander = await TestClient.connect(server.wsUrl('?channels=fuzz:watch'));
  const report = await runFuzz(server.wsUrl(), 6000, 20261123);
  assert.equal(report.crashes, 0);
  assert.equal(report.frames > 0, true);
  assert.ok(report.answers.error > report.frames / 2, `most random frames get error replies (${report.answers.error} of ${report.frames})`);
  assert.equal(report.answers.other, 0, 'no frame kind other than replies');
  assert.equal((await httpPublish(server.http, 'fuzz:watch', 'alive')).status, 200);
  assert.deepEqual((await bystander.waitPublications(1))[0]!.data, Buffer.from('alive'));
  assert.equal(server.stderr, '', 'nothing on stderr');
  await bystander.close();
});
