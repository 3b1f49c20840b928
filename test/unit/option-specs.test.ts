import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OPTION_SPECS, defaultOptions } from '../../src/config/options';

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const env = (key: string): string => `BROADCASTER_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
/** The one option named in the singular on the command line (repeat it) and in the plural elsewhere. */
const NAMED_APART: Record<string, { flag: string; env: string }> = { apiKeys: { flag: 'api-key', env: 'BROADCASTER_API_KEYS' } };

test('every option: flag and environment variable follow its config key', () => {
  for (const spec of OPTION_SPECS) {
    const expected = NAMED_APART[spec.key] ?? { flag: kebab(spec.key), env: env(spec.key) };
    assert.deepEqual({ flag: spec.flag, env: spec.env }, expected, spec.key);
  }
  assert.equal(new Set(OPTION_SPECS.map((s) => s.key)).size, OPTION_SPECS.length, 'no option twice');
});

test('every option has a one-sentence description for --help', () => {
  for (const spec of OPTION_SPECS) {
    assert.match(spec.help, /^[A-Za-z].{15,}\.$/s, `${spec.key}: a sentence ending with a period`);
    assert.doesNotMatch(spec.help, /Stryker/, spec.key);
  }
});

test('integer options: defaults within their bounds, bounds in order', () => {
  for (const spec of OPTION_SPECS.filter((s) => s.type === 'integer')) {
    assert.equal(typeof spec.min, 'number', `${spec.key} min`);
    assert.equal(typeof spec.max, 'number', `${spec.key} max`);
    assert.ok(spec.min! < spec.max!, `${spec.key} bounds`);
    assert.ok(typeof spec.default === 'number' && spec.default >= spec.min! && spec.default <= spec.max!, `${spec.key} default ${String(spec.default)}`);
  }
  for (const spec of OPTION_SPECS.filter((s) => s.type === 'choice')) {
    assert.ok(spec.choices !== undefined && spec.choices.includes(spec.default as string), `${spec.key}: the default is a choice`);
  }
});

test('the documented defaults', () => {
  assert.deepEqual(defaultOptions(), {
    port: 9001,
    host: '0.0.0.0',
    redisUrl: null,
    redisClusterNodes: [],
    redisClusterPartitions: 64,
    redisPrefix: 'bc:',
    logLevel: 'info',
    maxMessageSize: 65536,
    maxSubscriptionsPerConnection: 1024,
    maxBackpressure: 1048576,
    idleTimeout: 120,
    shutdownTimeout: 10000,
    historySize: 100,
    historyTtl: 300,
    historyMetaTtl: 86400,
    historyNamespaces: '',
    idempotencyTtl: 300,
    slowConsumerPolicy: 'close',
    memoryBatchMs: 0,
    fanoutWindowMs: 1,
    maxBatchBytes: 1048576,
    redisProbeInterval: 1000,
    redisProbeTimeout: 3000,
    workers: 0,
    adminPort: 0,
    adminHost: '127.0.0.1',
    instance: 0,
    jwtSecret: null,
    jwtPublicKey: null,
    jwksFile: null,
    anonymous: 'allow',
    clientSubscribe: ['*'],
    clientPublish: [],
    apiKeys: [],
    trustedNetworks: ['127.0.0.0/8', '::1'],
    presenceNamespaces: [],
    presenceTtl: 15,
    presenceInfoClaim: 'info',
    demo: false,
    allowedOrigins: [],
    rateLimitMessages: 200,
    rateLimitBytes: 1048576,
    maxConnections: 0,
    maxConnectionsPerIp: 0,
    compression: 'off',
    tlsCert: null,
    tlsKey: null,
  });
});
