import assert from 'node:assert/strict';
import { test } from 'node:test';
import { helpText } from '../../src/cli/help';
import { ConfigError } from '../../src/config/config-error';
import { configRun as run } from '../helpers/config-calls';

test('presence is off by default; --presence-namespaces, --presence-ttl and --presence-info-claim set it up', () => {
  const defaults = run([]);
  assert.deepEqual([defaults.presenceNamespaces, defaults.presenceTtl, defaults.presenceInfoClaim, defaults.demo], [[], 15, 'info', false]);
  const set = run(['--presence-namespaces', 'chat:,room.', '--presence-ttl', '5', '--presence-info-claim', 'profile']);
  assert.deepEqual([set.presenceNamespaces, set.presenceTtl, set.presenceInfoClaim], [['chat:', 'room.'], 5, 'profile']);
  assert.throws(
    () => run(['--presence-namespaces', 'chat {x}']),
    (err: unknown) => err instanceof ConfigError && /channel prefixes/.test(err.message),
  );
  assert.throws(() => run(['--presence-ttl', '0']), ConfigError);
});

test('--demo enables publishing and presence for demo:chat only and keeps every other default', () => {
  const demo = run(['--demo']);
  assert.equal(demo.demo, true);
  assert.deepEqual(demo.clientPublish, ['demo:chat*']);
  assert.deepEqual(demo.presenceNamespaces, ['demo:chat']);
  assert.deepEqual(run(['--demo', '--client-publish', 'x:*']).clientPublish, ['x:*', 'demo:chat*']);
  const plain = run([]);
  for (const key of ['anonymous', 'apiKeys', 'trustedNetworks', 'clientSubscribe', 'host', 'port'] as const) assert.deepEqual(demo[key], plain[key], key);
  assert.equal(run([], { BROADCASTER_DEMO: 'true' }).demo, true);
  assert.equal(run([], { BROADCASTER_DEMO: '0' }).demo, false);
  assert.throws(() => run([], { BROADCASTER_DEMO: 'yes' }), ConfigError);
  assert.match(helpText(), /--demo {2,}/);
});
