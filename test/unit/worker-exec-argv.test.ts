import assert from 'node:assert/strict';
import { test } from 'node:test';
import { workerExecArgv } from '../../src/cluster/worker-exec-argv';

test('workers get the young-generation cap after the supervisor flags', () => {
  assert.deepEqual(workerExecArgv([], undefined), ['--max-semi-space-size=2']);
  assert.deepEqual(workerExecArgv(['--enable-source-maps'], ''), ['--enable-source-maps', '--max-semi-space-size=2']);
});

test('a cap the operator chose, on the command line or in NODE_OPTIONS, is kept as is', () => {
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=8'], undefined), ['--max-semi-space-size=8']);
  assert.deepEqual(workerExecArgv(['--max-semi-space-size', '8'], undefined), ['--max-semi-space-size', '8']);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=512  --max-semi-space-size=16'), []);
});

test('other flags that merely start alike do not count as a choice', () => {
  assert.deepEqual(workerExecArgv(['--max-semi-space-sizes=4'], '--max-old-space-size=512'), ['--max-semi-space-sizes=4', '--max-semi-space-size=2']);
});
