import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/config-error';
import { CONFIG_ENV, CONFIG_FLAG, loadConfig } from '../../src/config/load-config';
import { OPTION_SPECS } from '../../src/config/options';
import { configRefused as refusedExactly, configRun as run } from '../helpers/config-calls';

const dir = mkdtempSync(join(tmpdir(), 'bc-config-values-'));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

test('the config flag and variable names', () => {
  assert.equal(CONFIG_FLAG, 'config');
  assert.equal(CONFIG_ENV, 'BROADCASTER_CONFIG');
});

test('integers: bounds inclusive, whitespace allowed, anything else refused with the allowed range', () => {
  assert.equal(run(['--port', '0']).port, 0);
  assert.equal(run(['--port', '65535']).port, 65535);
  assert.equal(run(['--port', ' 80 ']).port, 80);
  assert.equal(run([], { BROADCASTER_WORKERS: '256' }).workers, 256);
  refusedExactly(['--port=-1'], {}, 'port', 'invalid port "-1" from --port: set --port / BROADCASTER_PORT to an integer from 0 to 65535');
  refusedExactly(['--port', '65536'], {}, 'port', 'invalid port "65536" from --port: set --port / BROADCASTER_PORT to an integer from 0 to 65535');
  refusedExactly(['--port', '1e3'], {}, 'port', 'invalid port "1e3" from --port: set --port / BROADCASTER_PORT to an integer from 0 to 65535');
  refusedExactly(['--port', ''], {}, 'port', 'invalid port "" from --port: set --port / BROADCASTER_PORT to an integer from 0 to 65535');
  const json = file('int.json', JSON.stringify({ port: 8080.5 }));
  refusedExactly(['--config', json], {}, 'port', `invalid port 8080.5 from config file ${json}: set --port / BROADCASTER_PORT to an integer from 0 to 65535`);
  assert.equal(run(['--config', file('int2.json', JSON.stringify({ port: 8080 }))]).port, 8080);
  assert.equal(run(['--config', file('int3.json', JSON.stringify({ port: '8080' }))]).port, 8080, 'digits in a JSON string are read too');
});

test('levels, policies and choices: only the listed words', () => {
  assert.equal(run(['--log-level', 'silent']).logLevel, 'silent');
  refusedExactly(
    ['--log-level', 'INFO'],
    {},
    'logLevel',
    'invalid logLevel "INFO" from --log-level: set --log-level / BROADCASTER_LOG_LEVEL to one of fatal, error, warn, info, debug, trace, silent',
  );
  assert.equal(run(['--slow-consumer-policy', 'drop']).slowConsumerPolicy, 'drop');
  refusedExactly(
    ['--slow-consumer-policy', 'skip'],
    {},
    'slowConsumerPolicy',
    'invalid slowConsumerPolicy "skip" from --slow-consumer-policy: set --slow-consumer-policy / BROADCASTER_SLOW_CONSUMER_POLICY to one of close, drop',
  );
  assert.equal(run(['--compression', 'dedicated']).compression, 'dedicated');
  refusedExactly(
    ['--compression', 'on'],
    {},
    'compression',
    'invalid compression "on" from --compression: set --compression / BROADCASTER_COMPRESSION to one of off, shared, dedicated',
  );
  refusedExactly(
    ['--anonymous', 'maybe'],
    {},
    'anonymous',
    'invalid anonymous "maybe" from --anonymous: set --anonymous / BROADCASTER_ANONYMOUS to one of allow, deny',
  );
  const json = file('level.json', JSON.stringify({ logLevel: 3 }));
  refusedExactly(
    ['--config', json],
    {},
    'logLevel',
    `invalid logLevel 3 from config file ${json}: set --log-level / BROADCASTER_LOG_LEVEL to one of fatal, error, warn, info, debug, trace, silent`,
  );
  const policy = file('policy.json', JSON.stringify({ slowConsumerPolicy: true }));
  assert.throws(() => loadConfig(['--config', policy], {}), /invalid slowConsumerPolicy true/);
  const choice = file('choice.json', JSON.stringify({ compression: 1 }));
  assert.throws(() => loadConfig(['--config', choice], {}), /invalid compression 1/);
});

test('redis URLs: redis:// or rediss://, empty is none', () => {
  assert.equal(run(['--redis-url', 'rediss://u:p@h:1/2']).redisUrl, 'rediss://u:p@h:1/2');
  assert.equal(run(['--redis-url', '']).redisUrl, null);
  assert.equal(run(['--config', file('url.json', JSON.stringify({ redisUrl: null }))]).redisUrl, null);
  refusedExactly(
    ['--redis-url', 'http://h'],
    {},
    'redisUrl',
    'invalid redisUrl "http://h" from --redis-url: set --redis-url / BROADCASTER_REDIS_URL to a redis:// or rediss:// URL',
  );
  refusedExactly(
    ['--redis-url', 'nope'],
    {},
    'redisUrl',
    'invalid redisUrl "nope" from --redis-url: set --redis-url / BROADCASTER_REDIS_URL to a redis:// or rediss:// URL',
  );
  assert.throws(() => loadConfig(['--config', file('url2.json', JSON.stringify({ redisUrl: 6379 }))], {}), /invalid redisUrl 6379/);
});

test('strings, secrets and files', () => {
  assert.equal(run(['--host', '::1']).host, '::1');
  refusedExactly(['--host', ''], {}, 'host', 'invalid host "" from --host: set --host / BROADCASTER_HOST to a non-empty string');
  assert.throws(() => loadConfig(['--config', file('host.json', JSON.stringify({ host: 1 }))], {}), /invalid host 1/);
  assert.equal(run(['--jwt-secret', '']).jwtSecret, null);
  assert.equal(run(['--jwt-secret', 's'.repeat(32)]).jwtSecret, 's'.repeat(32));
  assert.throws(
    () => loadConfig(['--config', file('secret.json', JSON.stringify({ jwtSecret: 5 }))], {}),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.message === `invalid jwtSecret 5 from config file ${join(dir, 'secret.json')}: set --jwt-secret / BROADCASTER_JWT_SECRET to a non-empty string`,
  );
  const pem = file('key.pem', 'x');
  assert.equal(run(['--tls-cert', pem, '--tls-key', pem]).tlsCert, pem);
  assert.equal(run(['--tls-cert', '']).tlsCert, null);
  assert.throws(
    () => loadConfig(['--tls-cert', join(dir, 'missing.pem')], {}),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.option === 'tlsCert' &&
      err.message.startsWith(`cannot read tlsCert file ${join(dir, 'missing.pem')} from --tls-cert: `) &&
      err.message.endsWith('; set --tls-cert / BROADCASTER_TLS_CERT to a readable file'),
  );
  assert.throws(() => loadConfig(['--config', file('file.json', JSON.stringify({ jwksFile: 1 }))], {}), /invalid jwksFile 1 .*the path of a readable file/);
});

test('namespaces: checked at load', () => {
  assert.equal(run(['--history-namespaces', 'a=1/1']).historyNamespaces, 'a=1/1');
  assert.throws(
    () => loadConfig(['--history-namespaces', 'bad'], {}),
    (err: unknown) => err instanceof ConfigError && err.option === 'historyNamespaces',
  );
  assert.throws(
    () => loadConfig(['--config', file('ns.json', JSON.stringify({ historyNamespaces: 1 }))], {}),
    /invalid historyNamespaces 1 .*prefix=size\/ttl entries, comma-separated/,
  );
});

test('lists: comma-separated or repeated, trimmed, empty items dropped, each item checked', () => {
  assert.deepEqual(run(['--api-key', 'a', '--api-key', 'b,c']).apiKeys, ['a', 'b', 'c']);
  assert.deepEqual(run([], { BROADCASTER_API_KEYS: ' a , ,b ' }).apiKeys, ['a', 'b']);
  assert.deepEqual(run(['--config', file('list.json', JSON.stringify({ apiKeys: ['x', ' y '] }))]).apiKeys, ['x', 'y']);
  assert.throws(
    () => loadConfig(['--config', file('list2.json', JSON.stringify({ apiKeys: ['x', 1] }))], {}),
    /invalid apiKeys \["x",1\] .*comma-separated values/,
  );
  assert.throws(() => loadConfig(['--config', file('list3.json', JSON.stringify({ apiKeys: 7 }))], {}), /invalid apiKeys 7/);
  assert.deepEqual(run(['--client-publish', 'chat:*,news']).clientPublish, ['chat:*', 'news']);
  assert.deepEqual(run(['--client-publish', '']).clientPublish, [], 'empty: none');
  refusedExactly(
    ['--client-subscribe', 'a b'],
    {},
    'clientSubscribe',
    'invalid clientSubscribe "a b" from --client-subscribe: set --client-subscribe / BROADCASTER_CLIENT_SUBSCRIBE to comma-separated channel patterns: *, prefix* or exact channel names',
  );
  refusedExactly(
    ['--client-publish', 'ok,*x'],
    {},
    'clientPublish',
    'invalid clientPublish "ok,*x" from --client-publish: set --client-publish / BROADCASTER_CLIENT_PUBLISH to comma-separated channel patterns: *, prefix* or exact channel names',
  );
  assert.deepEqual(run(['--allowed-origins', 'https://a.example,http://b:8080']).allowedOrigins, ['https://a.example', 'http://b:8080']);
  for (const bad of ['a.example', 'https://a.example/', 'ftp://a', 'https://a b']) {
    refusedExactly(
      ['--allowed-origins', bad],
      {},
      'allowedOrigins',
      `invalid allowedOrigins ${JSON.stringify(bad)} from --allowed-origins: set --allowed-origins / BROADCASTER_ALLOWED_ORIGINS to comma-separated origins like https://example.com`,
    );
  }
  assert.deepEqual(run(['--api-key', 'a b']).apiKeys, ['a b'], 'other lists are not patterns');
});

test('config file: an object of known options; anonymous set there counts as explicit', () => {
  refusedExactly(
    ['--config', join(dir, 'none.json')],
    {},
    'config',
    `cannot read config file ${join(dir, 'none.json')}: ENOENT: no such file or directory, open '${join(dir, 'none.json')}'; fix --config / BROADCASTER_CONFIG`,
  );
  assert.throws(
    () => loadConfig(['--config', file('bad.json', '{')], {}),
    (err: unknown) =>
      err instanceof ConfigError && err.option === 'config' && err.message.startsWith(`config file ${join(dir, 'bad.json')} is not valid JSON: `),
  );
  for (const content of ['[]', 'null', '3']) {
    const path = file('notobj.json', content);
    refusedExactly(['--config', path], {}, 'config', `config file ${path} must hold a JSON object of options`);
  }
  assert.throws(
    () => loadConfig(['--config', file('unknown.json', JSON.stringify({ prot: 1 }))], {}),
    (err: unknown) =>
      err instanceof ConfigError && err.option === 'prot' && /^unknown option "prot" in config file .*; known options: port, host, /.test(err.message),
  );
  const both = file('anon.json', JSON.stringify({ anonymous: 'allow', jwtSecret: 's'.repeat(40) }));
  assert.throws(
    () => loadConfig(['--config', both], {}),
    (err: unknown) => err instanceof ConfigError && err.option === 'anonymous',
  );
  const implicit = file('anon2.json', JSON.stringify({ jwtSecret: 's'.repeat(40) }));
  assert.equal(run(['--config', implicit]).anonymous, 'deny');
  assert.equal(run(['--config', ''], {}).port, 9001, 'an empty --config is none');
  assert.equal(run([], { BROADCASTER_CONFIG: '' }).port, 9001);
  assert.equal(
    run(['--config', file('p.json', JSON.stringify({ port: 1 }))], { BROADCASTER_CONFIG: file('q.json', JSON.stringify({ port: 2 })) }).port,
    1,
    '--config beats BROADCASTER_CONFIG',
  );
  assert.equal(run([], { BROADCASTER_ANONYMOUS: 'allow' }).anonymous, 'allow');
  assert.throws(
    () => loadConfig(['--jwt-secret', 's'.repeat(40)], { BROADCASTER_ANONYMOUS: 'allow' }),
    (err: unknown) => err instanceof ConfigError && err.option === 'anonymous',
    'the environment is explicit too',
  );
});

test('flags: unknown or positional arguments are refused; -h and -v', () => {
  assert.throws(
    () => loadConfig(['--nope'], {}),
    (err: unknown) => err instanceof ConfigError && err.option === 'argv' && err.message.endsWith('; run with --help to list every option'),
  );
  assert.throws(
    () => loadConfig(['extra'], {}),
    (err: unknown) => err instanceof ConfigError && err.option === 'argv',
  );
  assert.deepEqual(loadConfig(['-h'], {}), { kind: 'help' });
  assert.deepEqual(loadConfig(['-v'], {}), { kind: 'version' });
  assert.deepEqual(loadConfig(['--version'], {}), { kind: 'version' });
  assert.equal(run(['--port', '1'], { BROADCASTER_PORT: '2' }).port, 1);
  assert.equal(run([], { BROADCASTER_PORT: '2' }).port, 2);
});

test('every option takes a value from its flag and from its environment variable, typed', () => {
  const pem = file('any.pem', 'x');
  const sample = (spec: (typeof OPTION_SPECS)[number]): string => {
    if (spec.type === 'file') return pem;
    if (spec.type === 'secret') return 's'.repeat(40);
    if (spec.type === 'url') return 'redis://127.0.0.1:1';
    if (spec.type === 'list')
      return spec.key === 'allowedOrigins'
        ? 'https://a.example'
        : spec.key === 'trustedNetworks'
          ? '10.0.0.0/8'
          : spec.key === 'redisClusterNodes'
            ? '127.0.0.1:7000'
            : spec.key === 'presenceNamespaces'
              ? 'chat:'
              : 'a:*';
    if (spec.type === 'namespaces') return 'a:=1/1';
    return Array.isArray(spec.default) ? 'a' : String(spec.default ?? 'x');
  };
  const companions: Record<string, string[]> = { tlsCert: ['--tls-key', pem], tlsKey: ['--tls-cert', pem] };
  for (const spec of OPTION_SPECS) {
    if (spec.type === 'boolean') {
      // A switch: the flag takes no value; the environment variable takes true/false.
      assert.equal(run([`--${spec.flag}`])[spec.key], true, `--${spec.flag}`);
      assert.equal(run([], { [spec.env]: 'true' })[spec.key], true, spec.env);
      continue;
    }
    const value = sample(spec);
    const fromFlag = run([`--${spec.flag}`, value, ...(companions[spec.key] ?? [])]);
    const fromEnv = run(companions[spec.key] ?? [], { [spec.env]: value });
    const expected = spec.type === 'integer' ? Number(value) : spec.type === 'list' ? [value] : value;
    assert.deepEqual(fromFlag[spec.key], expected, `--${spec.flag}`);
    assert.deepEqual(fromEnv[spec.key], expected, spec.env);
  }
});

test('JSON null for secrets and files means none; other JSON types are refused where a string is needed', () => {
  const nulls = file('nulls.json', JSON.stringify({ jwtSecret: null, tlsCert: null, tlsKey: null, jwksFile: null }));
  const options = run(['--config', nulls]);
  assert.deepEqual([options.jwtSecret, options.tlsCert, options.tlsKey, options.jwksFile], [null, null, null, null]);
  assert.throws(() => loadConfig(['--config', file('bool.json', JSON.stringify({ port: true }))], {}), /invalid port true/);
  assert.throws(() => loadConfig(['--allowed-origins', 'xhttps://a.example'], {}), /invalid allowedOrigins/);
  assert.equal(run(['--port', '1', '--port', '2']).port, 2, 'a repeated flag: the last one wins');
});
