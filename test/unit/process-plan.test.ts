import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfigError } from '../../src/config/config-error';
import { defaultOptions, type Options } from '../../src/config/options';
import { WORKER_INDEX_ENV, planProcesses } from '../../src/cluster/process-plan';
import { restartDelay } from '../../src/cluster/supervisor';

const opts = (over: Partial<Options>): Options => ({ ...defaultOptions(), ...over });
const REDIS = 'redis://127.0.0.1:1';

test('default: one worker per core with Redis and a fixed port', () => {
  assert.deepEqual(planProcesses(opts({ redisUrl: REDIS }), {}, 4), { kind: 'supervisor', workers: 4, notes: [] });
  assert.equal(planProcesses(opts({ redisUrl: REDIS }), {}, 1).kind, 'single');
  assert.equal(planProcesses(opts({ redisUrl: REDIS, workers: 1 }), {}, 8).kind, 'single');
});

test('without Redis: one process, and it says why', () => {
  for (const workers of [0, 4]) {
    const plan = planProcesses(opts({ workers }), {}, 8);
    assert.equal(plan.kind, 'single');
    assert.match((plan as { notes: string[] }).notes[0]!, /in-memory broker does not cross processes/);
  }
});

test('--port 0: auto means one process; an explicit --workers N is refused naming the fix', () => {
  assert.equal(planProcesses(opts({ redisUrl: REDIS, port: 0 }), {}, 8).kind, 'single');
  assert.throws(() => planProcesses(opts({ redisUrl: REDIS, port: 0, workers: 2 }), {}, 8), (err: ConfigError) => err.option === 'workers' && /set --port to a fixed port, or --workers 1/.test(err.message));
});

test('--instance: one process per unit; admin port = base + instance (+ worker index)', () => {
  assert.deepEqual(planProcesses(opts({ redisUrl: REDIS, instance: 3, adminPort: 9100 }), {}, 8), { kind: 'single', adminPort: 9103, notes: ['running one process: --instance 3 means the service manager runs one process per unit'] });
  assert.throws(() => planProcesses(opts({ redisUrl: REDIS, instance: 3, workers: 2 }), {}, 8), /set --workers 1/);
  assert.deepEqual(planProcesses(opts({ redisUrl: REDIS, adminPort: 9100 }), { [WORKER_INDEX_ENV]: '2' }, 8), { kind: 'worker', index: 2, adminPort: 9102 });
  assert.equal((planProcesses(opts({}), {}, 1) as { adminPort: number | null }).adminPort, null, 'admin disabled by default');
  assert.throws(() => planProcesses(opts({ redisUrl: REDIS, adminPort: 65535, workers: 2 }), {}, 8), /over 65535/);
});

test('restart back-off doubles from 100 ms up to 10 s', () => {
  assert.deepEqual([1, 2, 3, 4, 10, 20].map(restartDelay), [100, 200, 400, 800, 10_000, 10_000]);
});
