import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { helpText } from '../../src/cli/help';
import { loadConfig } from '../../src/config/load-config';
import { OPTION_SPECS, defaultOptions } from '../../src/config/options';
import { configRefused as refused, configRun as run } from '../helpers/config-calls';

function tempFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'bc-config-')), 'config.json');
  writeFileSync(path, content);
  return path;
}

test('no flags, no env: the documented defaults, frozen', () => {
  const options = run([]);
  assert.deepEqual(options, defaultOptions());
  assert.equal(options.port, 9001);
  assert.equal(options.redisUrl, null);
  assert.equal(options.redisPrefix, 'bc:');
  assert.ok(Object.isFrozen(options));
});

test('flags beat environment, which beats the config file', () => {
  const file = tempFile(JSON.stringify({ port: 7000, redisPrefix: 'file:', maxMessageSize: 10 }));
  const options = run(['--config', file, '--port', '7002'], { BROADCASTER_PORT: '7001', BROADCASTER_REDIS_PREFIX: 'env:' });
  assert.equal(options.port, 7002);
  assert.equal(options.redisPrefix, 'env:');
  assert.equal(options.maxMessageSize, 10);
  assert.equal(run([], { BROADCASTER_CONFIG: file }).port, 7000);
});

test('redis url from flag or environment', () => {
  assert.equal(run(['--redis-url', 'redis://127.0.0.1:6380']).redisUrl, 'redis://127.0.0.1:6380');
  assert.equal(run([], { BROADCASTER_REDIS_URL: 'rediss://h:1/2' }).redisUrl, 'rediss://h:1/2');
});

test('bad values name the option, the source and what is allowed', () => {
  refused(['--port', '70000'], {}, 'port', /invalid port "70000" from --port: set --port \/ BROADCASTER_PORT to an integer from 0 to 65535/);
  refused(['--port', 'abc'], {}, 'port', /--port/);
  refused([], { BROADCASTER_PORT: '1.5' }, 'port', /from BROADCASTER_PORT/);
  refused(['--redis-url', 'http://x'], {}, 'redisUrl', /redis:\/\/ or rediss:\/\/ URL/);
  refused(['--redis-url', 'not a url'], {}, 'redisUrl', /redisUrl/);
  refused(['--log-level', 'loud'], {}, 'logLevel', /one of fatal, error, warn, info, debug, trace, silent/);
  refused(['--max-message-size', '0'], {}, 'maxMessageSize', /from 1 to/);
  refused(['--idle-timeout', '4'], {}, 'idleTimeout', /0 \(off\) or 8-960/);
  refused(['--redis-prefix', ''], {}, 'redisPrefix', /non-empty string/);
});

test('unknown flags, unknown file keys and unreadable files are refused', () => {
  refused(['--prot', '1'], {}, 'argv', /Unknown option '--prot'.*--help/);
  refused(['extra'], {}, 'argv', /--help/);
  refused(['--config', tempFile('{"prot": 1}')], {}, 'prot', /unknown option "prot"/);
  refused(['--config', tempFile('{nope')], {}, 'config', /not valid JSON/);
  refused(['--config', tempFile('[1]')], {}, 'config', /JSON object/);
  refused(['--config', '/nonexistent/x.json'], {}, 'config', /cannot read config file/);
  refused(['--config', tempFile('{"port": "x"}')], {}, 'port', /from config file/);
});

test('--help and --version', () => {
  assert.deepEqual(loadConfig(['--help']), { kind: 'help' });
  assert.deepEqual(loadConfig(['-h']), { kind: 'help' });
  assert.deepEqual(loadConfig(['--version']), { kind: 'version' });
});

test('--help lists every option with its environment variable and default', () => {
  const text = helpText();
  for (const spec of OPTION_SPECS) {
    assert.ok(text.includes(`--${spec.flag}`), spec.flag);
    assert.ok(text.includes(spec.env), spec.env);
  }
  assert.match(text, /--config/);
  assert.match(text, /Default: 9001/);
});

test('Redis Cluster nodes: host:port lists from flag or env, exclusive with --redis-url, brace-free prefix', () => {
  assert.deepEqual(run(['--redis-cluster-nodes', '10.0.0.1:7000, redis-a:7001,[::1]:7002']).redisClusterNodes, ['10.0.0.1:7000', 'redis-a:7001', '[::1]:7002']);
  assert.deepEqual(run([], { BROADCASTER_REDIS_CLUSTER_NODES: 'a:1,b:2', BROADCASTER_REDIS_CLUSTER_PARTITIONS: '16' }), { ...run([]), redisClusterNodes: ['a:1', 'b:2'], redisClusterPartitions: 16 });
  refused(['--redis-cluster-nodes', 'redis-a'], {}, 'redisClusterNodes', /host:port/);
  refused(['--redis-cluster-nodes', 'a:70000'], {}, 'redisClusterNodes', /host:port/);
  refused(['--redis-cluster-partitions', '0'], {}, 'redisClusterPartitions', /1 to 16384/);
  refused(['--redis-cluster-nodes', 'a:1', '--redis-url', 'redis://b:2'], {}, 'redisClusterNodes', /exclusive/);
  refused(['--redis-cluster-nodes', 'a:1'], { BROADCASTER_REDIS_PREFIX: 'x{y}:' }, 'redisPrefix', /without braces/);
});
