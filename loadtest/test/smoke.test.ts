/**
 * Smoke run of the comparison runner: a few hundred subscribers for a few seconds against the
 * limit peer and the broadcaster's memory broker. Fails when any delivery is lost, duplicated,
 * reordered or malformed. Needs `redis-server` on PATH (the runner starts a private one) and a
 * build (`npx tsc -p tsconfig.json`). Takes about 15 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runComparison } from '../compare/run-compare.js';
import { resolveWorkloads } from '../compare/workloads.js';

test('smoke: limit and broadcaster memory deliver every message exactly once, in order', { timeout: 60_000 }, async (t) => {
  const lines: string[] = [];
  const runs = await runComparison({
    workloads: resolveWorkloads('smoke'),
    systems: ['limit', 'bc-memory'],
    processes: 1,
    repeat: 1,
    generatorWorkers: 1,
    verbose: false,
    log: (l) => lines.push(l),
  });
  t.diagnostic(lines.join('\n'));
  // Both systems must have run: a skipped broadcaster would leave only the reference peer checked.
  assert.deepEqual(runs.map((r) => r.system).sort(), ['bc-memory', 'limit']);
  for (const r of runs) {
    assert.equal(r.error, undefined, `${r.system}: ${r.error ?? ''}`);
    assert.equal(r.opened, r.subscribers, `${r.system}: every subscriber opens`);
    assert.ok(r.expected > 0, `${r.system}: something was published`);
    assert.equal(r.received, r.expected, `${r.system}: received = expected`);
    assert.equal(r.lost, 0, `${r.system}: no loss`);
    assert.equal(r.duplicates, 0, `${r.system}: no duplicates`);
    assert.equal(r.reordered, 0, `${r.system}: no reordering`);
    assert.ok(r.ok, `${r.system}: ${r.problems.join('; ')}`);
    assert.ok(r.latency.count === r.received, `${r.system}: a latency per delivery`);
  }
});
