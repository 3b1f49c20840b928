import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { clusterNode } from '../../src/config/cluster-nodes';
import { ConfigError } from '../../src/config/config-error';
import { loadConfig } from '../../src/config/load-config';
import { configRefused as refused, configRun as run } from '../helpers/config-calls';

// Values at the edges of their kinds: booleans, cluster nodes, presence prefixes, trusted
// networks, JSON types where strings or integers are expected, and the cross-option rules
// that depend on another option.

const dir = mkdtempSync(join(tmpdir(), 'bc-config-edges-'));
const configFile = (name: string, content: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
};

test('booleans: true, 1, false, 0 and JSON booleans; anything else is refused naming the words', () => {
  for (const [raw, value] of [
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ] as const) {
    assert.equal(run([], { BROADCASTER_DEMO: raw }).demo, value, raw);
  }
  assert.equal(run(['--config', configFile('on.json', { demo: true })]).demo, true);
  assert.equal(run(['--config', configFile('off.json', { demo: false })], { BROADCASTER_DEMO: undefined }).demo, false);
  refused(
    [],
    { BROADCASTER_DEMO: 'yes' },
    'demo',
    'invalid demo "yes" from BROADCASTER_DEMO: set --demo / BROADCASTER_DEMO to true or false (the flag alone means true)',
  );
});

test('cluster nodes: a name, IPv4 or bracketed IPv6 and a port 1-65535, nothing around them', () => {
  assert.deepEqual(clusterNode('redis-a:7000'), { host: 'redis-a', port: 7000 });
  assert.deepEqual(clusterNode('10.0.0.1:1'), { host: '10.0.0.1', port: 1 });
  assert.deepEqual(clusterNode('[::1]:65535'), { host: '::1', port: 65535 });
  for (const bad of ['redis-a:0', 'redis-a:65536', 'x redis-a:7000', 'redis-a:7000 x', 'redis-a', '::1:7000']) assert.equal(clusterNode(bad), null, bad);
});

test('presence prefixes: channel characters only; trusted networks: the error names the accepted forms', () => {
  assert.deepEqual(run(['--presence-namespaces', 'chat:,room.']).presenceNamespaces, ['chat:', 'room.']);
  refused(
    ['--presence-namespaces', 'chat:,bad prefix'],
    {},
    'presenceNamespaces',
    'invalid presenceNamespaces "chat:,bad prefix" from --presence-namespaces: set --presence-namespaces / BROADCASTER_PRESENCE_NAMESPACES to comma-separated channel prefixes like chat:,room.',
  );
  assert.throws(
    () => loadConfig(['--trusted-networks', '10.0.0.0/33'], {}),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.option === 'trustedNetworks' &&
      err.message.endsWith(
        'set --trusted-networks / BROADCASTER_TRUSTED_NETWORKS to comma-separated CIDR networks or addresses like 127.0.0.0/8,::1,10.0.0.0/8',
      ),
  );
});

test('a JSON array is no integer or URL, and a JSON number is no string', () => {
  const port = configFile('port.json', { port: [9001] });
  refused(['--config', port], {}, 'port', `invalid port [9001] from config file ${port}: set --port / BROADCASTER_PORT to an integer from 0 to 65535`);
  assert.throws(() => loadConfig(['--config', configFile('prefix.json', { redisPrefix: 5 })], {}), /invalid redisPrefix 5/);
  assert.throws(() => loadConfig(['--config', configFile('url.json', { redisUrl: ['redis://127.0.0.1:6379'] })], {}), /invalid redisUrl \["redis:/);
});

test('rules that depend on another option: braces in the prefix only matter on a cluster; --demo adds its patterns once', () => {
  assert.equal(run(['--redis-prefix', 'x{y}:']).redisPrefix, 'x{y}:', 'one Redis: any prefix');
  const demo = run(['--demo', '--client-publish', 'demo:chat*,news', '--presence-namespaces', 'demo:chat']);
  assert.deepEqual([demo.clientPublish, demo.presenceNamespaces], [['demo:chat*', 'news'], ['demo:chat']]);
  assert.deepEqual(run(['--demo', '--client-publish', 'news']).clientPublish, ['news', 'demo:chat*']);
});
