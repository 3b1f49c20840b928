import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import jwt from 'jsonwebtoken';
import { ConfigError } from '../../src/config/config-error';
import { defaultOptions, type Options } from '../../src/config/options';
import { Access, NO_TOKEN_GRANTS } from '../../src/security/access';
import { ApiKeys } from '../../src/security/api-keys';
import { ChannelPatterns, patternProblem } from '../../src/security/channel-patterns';
import { JwtVerifier, TokenError } from '../../src/security/jwt-verifier';

const SECRET = 'unit-test-secret-that-is-long-enough-0123456789';
const options = (over: Partial<Options>): Options => ({ ...defaultOptions(), ...over });
const now = (): number => Math.floor(Date.now() / 1000);

test('channel patterns: *, prefix* and exact names', () => {
  const p = new ChannelPatterns(['chat:*', 'news', 'a*']);
  for (const yes of ['chat:1', 'chat:', 'news', 'a', 'abc']) assert.equal(p.matches(yes), true, yes);
  for (const no of ['chat', 'news:1', 'xnews', 'b', 'Chat:1']) assert.equal(p.matches(no), false, no);
  assert.equal(new ChannelPatterns(['*']).matches('anything'), true);
  assert.equal(new ChannelPatterns(['x', '*']).matches('anything'), true, '* anywhere in the list');
  assert.equal(new ChannelPatterns([]).matches('anything'), false, 'no pattern: nothing');
  assert.equal(new ChannelPatterns(['news']).matches('new'), false, 'an exact name is not a prefix');
});

test('pattern problems name the pattern and the channel rule', () => {
  for (const ok of ['*', 'chat:*', 'news', 'a.b-c']) assert.equal(patternProblem(ok), null, ok);
  assert.match(patternProblem('bad name*') ?? '', /^pattern "bad name\*": .*may only contain/);
  assert.match(patternProblem('a*b') ?? '', /^pattern "a\*b":/, 'a star only at the end');
  assert.match(patternProblem('**') ?? '', /^pattern "\*\*":/);
  assert.match(patternProblem('') ?? '', /^pattern "":/);
});

test('access: the server patterns, narrowed by the token grants', () => {
  const server = new ChannelPatterns(['chat:*', 'news']);
  const open = new Access(server, new ChannelPatterns(['chat:*']), NO_TOKEN_GRANTS, null, null);
  assert.deepEqual([open.canSubscribe('chat:1'), open.canSubscribe('news'), open.canSubscribe('other')], [true, true, false]);
  assert.deepEqual([open.canPublish('chat:1'), open.canPublish('news')], [true, false]);
  assert.deepEqual([open.subject, open.expiresAt], [null, null]);
  const narrowed = new Access(server, server, { subscribe: new ChannelPatterns(['news']), publish: new ChannelPatterns(['chat:7']) }, 'u1', 1000);
  assert.deepEqual([narrowed.canSubscribe('news'), narrowed.canSubscribe('chat:1')], [true, false]);
  assert.deepEqual([narrowed.canPublish('chat:7'), narrowed.canPublish('chat:8'), narrowed.canPublish('news')], [true, false, false]);
  assert.deepEqual([narrowed.subject, narrowed.expiresAt], ['u1', 1000]);
  const wideToken = new Access(server, server, { subscribe: new ChannelPatterns(['*']), publish: null }, 'u2', null);
  assert.equal(wideToken.canSubscribe('other'), false, 'a token never widens the server patterns');
});

test('API keys: missing, wrong and right, Bearer in any case', () => {
  const none = new ApiKeys([]);
  assert.deepEqual([none.required, none.check(''), none.check('Bearer x')], [false, 'ok', 'ok']);
  const keys = new ApiKeys(['k1', 'k2']);
  assert.equal(keys.required, true);
  assert.equal(keys.check(''), 'missing');
  assert.equal(keys.check('Basic azE='), 'missing');
  assert.equal(keys.check('Bearer'), 'missing');
  assert.equal(keys.check('Bearer k1 k2'), 'missing', 'one key only');
  assert.equal(keys.check('Bearer k3'), 'wrong');
  assert.equal(keys.check('Bearer k'), 'wrong', 'a prefix is not the key');
  assert.equal(keys.check('Bearer k1'), 'ok');
  assert.equal(keys.check('bearer  k2 '), 'ok');
  assert.equal(keys.check('BEARER k2'), 'ok');
  assert.equal(keys.check('xBearer k1'), 'missing', 'the scheme starts the header');
});

test('JWT verifier: none without a key; HS256 claims read into grants', () => {
  assert.equal(JwtVerifier.fromOptions(options({})), null);
  const v = JwtVerifier.fromOptions(options({ jwtSecret: SECRET }))!;
  const exp = now() + 60;
  const claims = v.verify(jwt.sign({ sub: 'u1', exp, subscribe: ['chat:*'], publish: ['chat:1'] }, SECRET));
  const { payload, ...grants } = claims;
  assert.deepEqual(grants, { subject: 'u1', expiresAt: exp * 1000, subscribe: ['chat:*'], publish: ['chat:1'] });
  assert.equal((payload as { sub: string }).sub, 'u1', 'the whole payload is kept (presence reads its info claim)');
  const { payload: _p2, ...plain } = v.verify(jwt.sign({ sub: 'u2' }, SECRET));
  assert.deepEqual(plain, { subject: 'u2', expiresAt: null, subscribe: null, publish: null });
});

test('JWT verifier: every refusal is a TokenError naming the reason', () => {
  const v = JwtVerifier.fromOptions(options({ jwtSecret: SECRET }))!;
  const refused = (token: string, reason: RegExp): void => {
    assert.throws(
      () => v.verify(token),
      (err: Error) => err instanceof TokenError && err.name === 'TokenError' && reason.test(err.message),
    );
  };
  refused(jwt.sign({ sub: 'u', exp: now() - 10 }, SECRET), /^token expired$/);
  refused(jwt.sign({ sub: 'u', nbf: now() + 3600 }, SECRET), /^token not valid yet \("nbf" is in the future\)$/);
  refused(jwt.sign({ sub: 'u' }, 'another-secret-that-is-long-enough-0123456789'), /^token signature or format invalid$/);
  refused('garbage', /^token signature or format invalid$/);
  refused(jwt.sign({ sub: 'u' }, SECRET, { algorithm: 'HS384' }), /^token algorithm not allowed; expected HS256$/);
  refused(jwt.sign({}, SECRET), /^token has no "sub" \(user id\) claim$/);
  refused(jwt.sign({ sub: '' }, SECRET), /no "sub"/);
  refused(jwt.sign({ sub: 7 }, SECRET), /no "sub"/);
  refused(jwt.sign('just a string', SECRET), /payload must be a JSON object|signature or format/);
  refused(jwt.sign({ sub: 'u', subscribe: 'chat:*' }, SECRET), /^claim "subscribe" must be an array of channel patterns/);
  refused(jwt.sign({ sub: 'u', publish: ['ok', 'bad name'] }, SECRET), /^claim "publish" must be an array/);
  refused(jwt.sign({ sub: 'u', publish: [1] }, SECRET), /^claim "publish" must be an array/);
  const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"u"}').toString('base64url')}.`;
  refused(unsigned, /./);
});

test('JWT verifier: RS256 and ES256 PEM keys; other key types are a config error naming the option', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bc-unit-keys-'));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'rsa.pem'), rsa.publicKey.export({ type: 'spki', format: 'pem' }));
  const rs = JwtVerifier.fromOptions(options({ jwtPublicKey: join(dir, 'rsa.pem') }))!;
  assert.equal(rs.verify(jwt.sign({ sub: 'r' }, rsa.privateKey, { algorithm: 'RS256' })).subject, 'r');
  assert.throws(() => rs.verify(jwt.sign({ sub: 'r' }, SECRET)), /algorithm not allowed; expected RS256|signature or format/);
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writeFileSync(join(dir, 'ec.pem'), ec.publicKey.export({ type: 'spki', format: 'pem' }));
  const es = JwtVerifier.fromOptions(options({ jwtPublicKey: join(dir, 'ec.pem') }))!;
  assert.equal(es.verify(jwt.sign({ sub: 'e' }, ec.privateKey, { algorithm: 'ES256' })).subject, 'e');
  const ed = generateKeyPairSync('ed25519');
  writeFileSync(join(dir, 'ed.pem'), ed.publicKey.export({ type: 'spki', format: 'pem' }));
  assert.throws(
    () => JwtVerifier.fromOptions(options({ jwtPublicKey: join(dir, 'ed.pem') })),
    (err: Error) => err instanceof ConfigError && /^--jwt-public-key keys must be RSA \(RS256\) or EC P-256 \(ES256\), got ed25519$/.test(err.message),
  );
  const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
  writeFileSync(join(dir, 'p384.pem'), p384.publicKey.export({ type: 'spki', format: 'pem' }));
  assert.throws(() => JwtVerifier.fromOptions(options({ jwtPublicKey: join(dir, 'p384.pem') })), /must be RSA \(RS256\) or EC P-256/);
  writeFileSync(join(dir, 'junk.pem'), 'not a key');
  assert.throws(
    () => JwtVerifier.fromOptions(options({ jwtPublicKey: join(dir, 'junk.pem') })),
    (err: Error) => err instanceof ConfigError && err.message.startsWith(`--jwt-public-key ${join(dir, 'junk.pem')} is not a PEM public key: `),
  );
});

test('JWT verifier: JWKS keys chosen by kid; a bad document is a config error naming --jwks-file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bc-unit-jwks-'));
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const file = join(dir, 'jwks.json');
  writeFileSync(
    file,
    JSON.stringify({
      keys: [
        { ...ec.publicKey.export({ format: 'jwk' }), kid: 'e1' },
        { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'r1' },
      ],
    }),
  );
  const v = JwtVerifier.fromOptions(options({ jwksFile: file }))!;
  assert.equal(v.verify(jwt.sign({ sub: 'a' }, ec.privateKey, { algorithm: 'ES256', keyid: 'e1' })).subject, 'a');
  assert.equal(v.verify(jwt.sign({ sub: 'b' }, rsa.privateKey, { algorithm: 'RS256', keyid: 'r1' })).subject, 'b');
  assert.throws(() => v.verify(jwt.sign({ sub: 'c' }, ec.privateKey, { algorithm: 'ES256', keyid: 'r1' })), /algorithm not allowed; expected RS256/);
  assert.throws(
    () => v.verify(jwt.sign({ sub: 'c' }, ec.privateKey, { algorithm: 'ES256', keyid: 'zz' })),
    (err: Error) => err instanceof TokenError && err.message === 'token "kid" names no key of --jwks-file',
  );
  assert.throws(() => v.verify(jwt.sign({ sub: 'c' }, ec.privateKey, { algorithm: 'ES256' })), /names no key/);
  assert.throws(() => v.verify('garbage'), /names no key/);
  const bad = (content: string, reason: RegExp): void => {
    writeFileSync(file, content);
    assert.throws(
      () => JwtVerifier.fromOptions(options({ jwksFile: file })),
      (err: Error) => err instanceof ConfigError && err.message.startsWith(`--jwks-file ${file} is not a usable JWKS document: `) && reason.test(err.message),
    );
  };
  bad('not json', /JSON/);
  bad('{}', /no "keys" array$/);
  bad('{"keys": {}}', /no "keys" array$/);
  bad(JSON.stringify({ keys: [ec.publicKey.export({ format: 'jwk' })] }), /every key needs a "kid"$/);
  writeFileSync(file, JSON.stringify({ keys: [{ ...generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), kid: 'x' }] }));
  assert.throws(
    () => JwtVerifier.fromOptions(options({ jwksFile: file })),
    (err: Error) => err instanceof ConfigError && err.message === '--jwks-file keys must be RSA (RS256) or EC P-256 (ES256), got ed25519',
  );
});

test('refusals name their option; a non-object payload; pattern characters are all checked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bc-unit-opt-'));
  writeFileSync(join(dir, 'junk.pem'), 'not a key');
  assert.throws(
    () => JwtVerifier.fromOptions(options({ jwtPublicKey: join(dir, 'junk.pem') })),
    (err: Error) => err instanceof ConfigError && err.option === 'jwtPublicKey',
  );
  writeFileSync(join(dir, 'jwks.json'), '{}');
  assert.throws(
    () => JwtVerifier.fromOptions(options({ jwksFile: join(dir, 'jwks.json') })),
    (err: Error) => err instanceof ConfigError && err.option === 'jwksFile',
  );
  writeFileSync(join(dir, 'ed.json'), JSON.stringify({ keys: [{ ...generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), kid: 'x' }] }));
  assert.throws(
    () => JwtVerifier.fromOptions(options({ jwksFile: join(dir, 'ed.json') })),
    (err: Error) => err instanceof ConfigError && err.option === 'jwksFile',
  );
  const v = JwtVerifier.fromOptions(options({ jwtSecret: SECRET }))!;
  assert.throws(
    () => v.verify(jwt.sign('just a string', SECRET)),
    (err: Error) => err instanceof TokenError && err.message === 'token payload must be a JSON object',
  );
  assert.notEqual(patternProblem('a!'), null, 'the last character of an exact name is checked too');
  assert.notEqual(patternProblem('a!*'), null);
});
