import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIN_JWT_SECRET_BYTES, checkOptions } from '../../src/config/check-options';
import { ConfigError } from '../../src/config/config-error';
import { HistoryPolicies, parseNamespaces } from '../../src/config/history-policy';
import { defaultOptions, type Options } from '../../src/config/options';

const options = (over: Partial<Options>): Options => ({ ...defaultOptions(), ...over });
const check = (over: Partial<Options>, explicit: string[] = []): Options => checkOptions(options(over), new Set(explicit));
const refused = (over: Partial<Options>, option: string, message: string | RegExp, explicit: string[] = []): void => {
  assert.throws(
    () => check(over, explicit),
    (err: unknown) =>
      err instanceof ConfigError && err.option === option && (typeof message === 'string' ? err.message === message : message.test(err.message)),
  );
};

test('history namespaces: parsed entries, whitespace and empty text', () => {
  assert.deepEqual(parseNamespaces(''), []);
  assert.deepEqual(parseNamespaces('   '), []);
  assert.deepEqual(parseNamespaces('chat:=100/300'), [{ prefix: 'chat:', size: 100, ttl: 300 }]);
  assert.deepEqual(parseNamespaces(' a=1/2 , live:=0/0'), [
    { prefix: 'a', size: 1, ttl: 2 },
    { prefix: 'live:', size: 0, ttl: 0 },
  ]);
});

test('history namespaces: every bad entry is refused naming it and the option', () => {
  const bad = (text: string, message: string): void => {
    assert.throws(
      () => parseNamespaces(text),
      (err: unknown) => err instanceof ConfigError && err.option === 'historyNamespaces' && err.message === message,
    );
  };
  const format = (entry: string): string =>
    `invalid history namespace ${JSON.stringify(entry)}: set --history-namespaces / BROADCASTER_HISTORY_NAMESPACES to prefix=size/ttl entries, e.g. "chat:=100/300"`;
  for (const entry of ['chat:', 'chat:=100', 'chat:=a/1', '=1/1', 'a b=1/1', 'a=1/1/1', 'a=-1/1', 'a=1.5/1', 'xa=1/1x']) bad(entry, format(entry));
  bad('a=1/1,', format(''));
  bad('a=5/0', 'invalid history namespace "a=5/0": a ttl of 0 seconds needs size 0; give a ttl of at least 1 second');
  assert.deepEqual(parseNamespaces('a=0/0'), [{ prefix: 'a', size: 0, ttl: 0 }]);
  assert.deepEqual(parseNamespaces('a=1/1'), [{ prefix: 'a', size: 1, ttl: 1 }]);
});

test('history policies: the longest matching prefix wins, else the defaults', () => {
  const policies = new HistoryPolicies({ historySize: 7, historyTtl: 9, historyNamespaces: 'c=1/1,chat:=2/2,chat:vip:=3/3' });
  assert.deepEqual(policies.for('chat:vip:1'), { prefix: 'chat:vip:', size: 3, ttl: 3 });
  assert.deepEqual(policies.for('chat:1'), { prefix: 'chat:', size: 2, ttl: 2 });
  assert.deepEqual(policies.for('cat'), { prefix: 'c', size: 1, ttl: 1 });
  assert.deepEqual(policies.for('news'), { size: 7, ttl: 9 });
  // Listed shortest first or longest first: the same answer.
  const reversed = new HistoryPolicies({ historySize: 7, historyTtl: 9, historyNamespaces: 'chat:vip:=3/3,chat:=2/2,c=1/1' });
  assert.equal(reversed.for('chat:vip:1').size, 3);
  assert.equal(reversed.for('chat:1').size, 2);
});

test('idle timeout: 0 (off) or at least 8 seconds', () => {
  assert.equal(check({ idleTimeout: 0 }).idleTimeout, 0);
  assert.equal(check({ idleTimeout: 8 }).idleTimeout, 8);
  refused({ idleTimeout: 7 }, 'idleTimeout', 'invalid idleTimeout 7: set --idle-timeout / BROADCASTER_IDLE_TIMEOUT to 0 (off) or 8-960 seconds');
  refused({ idleTimeout: 1 }, 'idleTimeout', /invalid idleTimeout 1/);
});

test('max backpressure must hold one whole message', () => {
  assert.equal(check({ maxMessageSize: 1000, maxBackpressure: 2024 }).maxBackpressure, 2024);
  refused(
    { maxMessageSize: 1000, maxBackpressure: 2023 },
    'maxBackpressure',
    'invalid maxBackpressure 2023: it must hold one whole message; set --max-backpressure to at least --max-message-size + 1024 (2024)',
  );
});

test('token keys: at most one, a secret of at least 32 bytes', () => {
  const secret = 'x'.repeat(MIN_JWT_SECRET_BYTES);
  assert.equal(MIN_JWT_SECRET_BYTES, 32);
  refused({ jwtSecret: secret, jwtPublicKey: 'k.pem' }, 'jwtSecret', 'give one token key: --jwt-secret, --jwt-public-key or --jwks-file, not several');
  refused({ jwtPublicKey: 'k.pem', jwksFile: 'j.json' }, 'jwtSecret', /give one token key/);
  refused(
    { jwtSecret: 'x'.repeat(31) },
    'jwtSecret',
    '--jwt-secret / BROADCASTER_JWT_SECRET is too short: use at least 32 random bytes (e.g. openssl rand -base64 48)',
  );
  refused({ jwtSecret: 'é'.repeat(15) }, 'jwtSecret', /too short/);
  assert.equal(check({ jwtSecret: 'é'.repeat(16) }).jwtSecret, 'é'.repeat(16), 'bytes, not characters');
  assert.equal(check({ jwtSecret: secret }).jwtSecret, secret);
});

test('anonymous access: off whenever a key is set; allow with a key and deny without one are refused', () => {
  const secret = 'x'.repeat(40);
  assert.equal(check({}).anonymous, 'allow');
  assert.equal(check({ jwtSecret: secret }).anonymous, 'deny', 'a key turns anonymous off');
  assert.equal(check({ jwksFile: 'j.json' }).anonymous, 'deny');
  assert.equal(check({ jwtSecret: secret, anonymous: 'deny' }, ['anonymous']).anonymous, 'deny');
  refused({ jwtSecret: secret, anonymous: 'allow' }, 'anonymous', /^--anonymous allow cannot be combined with a token key/, ['anonymous']);
  refused({ anonymous: 'deny' }, 'anonymous', /^--anonymous deny without a token key would refuse every client/);
  assert.equal(check({ anonymous: 'allow' }, ['anonymous']).anonymous, 'allow');
});

test('TLS needs both files; the error names the missing one', () => {
  assert.equal(check({ tlsCert: 'c.pem', tlsKey: 'k.pem' }).tlsCert, 'c.pem');
  refused({ tlsCert: 'c.pem' }, 'tlsKey', 'TLS needs both --tls-cert and --tls-key');
  refused({ tlsKey: 'k.pem' }, 'tlsCert', 'TLS needs both --tls-cert and --tls-key');
});

test('the checked options are a copy; the input is not changed', () => {
  const input = options({ jwtSecret: 'x'.repeat(40) });
  const out = checkOptions(input, new Set());
  assert.notEqual(out, input);
  assert.equal(input.anonymous, 'allow');
  assert.deepEqual({ ...out, anonymous: 'allow' }, input);
});
