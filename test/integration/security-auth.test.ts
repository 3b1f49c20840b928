import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import WebSocket from 'ws';
import { Command, ErrorCode } from '../../src/protocol/opcodes';
import { ServerProcess } from '../helpers/server-process';
import { ClientPool, TestClient, httpPublish } from '../helpers/test-client';
import { TEST_SECRET, hs256Token, unsignedToken } from '../helpers/tokens';

type Refusal = Error & { status?: number; body?: string };
const refusedWith = (status: number, pattern: RegExp) => (err: Refusal) => err.status === status && pattern.test(err.body ?? '');

describe('JWT authentication (HS256) and channel permissions', { timeout: 240_000 }, () => {
  let server: ServerProcess;
  const pool = new ClientPool((query) => server.wsUrl(query));
  const connect = (query: string): Promise<TestClient> => pool.connect(query);

  before(async () => {
    server = await ServerProcess.start(['--port', '0', '--host', '127.0.0.1', '--jwt-secret', TEST_SECRET, '--client-publish', 'chat:*']);
  });
  after(async () => {
    await pool.closeAll();
    await server.stop();
  });

  test('refused at the handshake: no token, bad signature, alg none, expired, not yet valid, no sub', { timeout: 60_000 }, async () => {
    await assert.rejects(connect('?channels=news'), refusedWith(401, /token is required/));
    const wrongKey = await hs256Token({ sub: 'u1' }, { secret: 'another-secret-that-is-long-enough-for-hs256-xx', expiresIn: 60 });
    await assert.rejects(connect(`?token=${wrongKey}`), refusedWith(401, /signature or format invalid/));
    await assert.rejects(connect(`?token=${unsignedToken({ sub: 'u1' })}`), refusedWith(401, /unauthorized/));
    await assert.rejects(connect(`?token=${await hs256Token({ sub: 'u1' }, { expiresIn: -10 })}`), refusedWith(401, /token expired/));
    await assert.rejects(connect(`?token=${await hs256Token({ sub: 'u1' }, { notBefore: 3600 })}`), refusedWith(401, /not valid/));
    await assert.rejects(connect(`?token=${await hs256Token({}, { expiresIn: 60 })}`), refusedWith(401, /has no .*sub.* \(user id\) claim/));
    await assert.rejects(connect('?token=garbage'), refusedWith(401, /unauthorized/));
  });

  test('a valid token in the URL or in the subprotocol header connects', { timeout: 60_000 }, async () => {
    const token = await hs256Token({ sub: 'u1' }, { expiresIn: 60 });
    const viaUrl = await connect(`?token=${token}`);
    assert.deepEqual(await viaUrl.command(Command.Ping), [1, 1, null]);
    const ws = new WebSocket(server.wsUrl(), ['broadcaster', `bearer.${token}`]);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    assert.equal(ws.protocol, 'broadcaster', 'the server selects "broadcaster", never echoes the token');
    ws.close();
  });

  test('channel claims are enforced on URL subscribe, subscribe and publish commands', { timeout: 60_000 }, async () => {
    const token = await hs256Token({ sub: 'u2', subscribe: ['chat:*', 'news'], publish: ['chat:room1'] }, { expiresIn: 60 });
    await assert.rejects(connect(`?token=${token}&channels=chat:1,secret`), refusedWith(403, /forbidden_channel.*secret/));
    const c = await connect(`?token=${token}&channels=chat:1,news`);
    assert.deepEqual((await c.command(Command.Subscribe, 'secret')).slice(0, 3), [2, 1, ErrorCode.Forbidden]);
    assert.equal((await c.command(Command.Subscribe, 'chat:2'))[0], 1);
    assert.equal((await c.command(Command.Publish, 'chat:room1', 'hi'))[0], 1);
    assert.deepEqual((await c.command(Command.Publish, 'chat:room2', 'hi')).slice(0, 3), [2, 4, ErrorCode.Forbidden]);
    // news is readable but publish-from-backend only (--client-publish chat:*), whatever the token says.
    const wide = await connect(`?token=${await hs256Token({ sub: 'u3' }, { expiresIn: 60 })}&channels=news`);
    assert.deepEqual((await wide.command(Command.Publish, 'news', 'x')).slice(0, 3), [2, 1, ErrorCode.Forbidden]);
    assert.equal((await httpPublish(server.http, 'news', 'from backend')).status, 200);
    assert.deepEqual((await wide.waitPublications(1, 'news'))[0]!.data, Buffer.from('from backend'));
  });

  test('a token that expires while connected closes with 4001 unless refreshed first', { timeout: 30_000 }, async () => {
    // exp is in whole seconds: 2 s from a floored "now" leaves each token at least 1 s to connect.
    const shortToken = await hs256Token({ sub: 'u4' }, { expiresIn: 2 });
    const oldToken = await hs256Token({ sub: 'u5' }, { expiresIn: 2 });
    const expOf = (token: string): number => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
    const shortLived = await connect(`?token=${shortToken}`);
    const refreshed = await connect(`?token=${oldToken}`);
    const fresh = await hs256Token({ sub: 'u5' }, { expiresIn: 60 });
    const [, , result] = await refreshed.command(Command.Refresh, fresh);
    assert.deepEqual(result, { expiresAt: expOf(fresh) }, "the reply carries the fresh token's exp");
    const otherUser = await hs256Token({ sub: 'someone-else' }, { expiresIn: 60 });
    assert.deepEqual((await refreshed.command(Command.Refresh, otherUser)).slice(0, 3), [2, 2, ErrorCode.InvalidToken]);
    assert.deepEqual((await refreshed.command(Command.Refresh, 'garbage')).slice(0, 3), [2, 3, ErrorCode.InvalidToken]);
    const closed = await shortLived.waitClosed(6000);
    assert.deepEqual([closed.code, closed.reason], [4001, 'token expired: reconnect with a fresh token']);
    // The refreshed connection outlives its old token's expiry (plus the expiry check's one-second step).
    const pastOldExpiry = (expOf(oldToken) + 1) * 1000 - Date.now();
    if (pastOldExpiry > 0) await new Promise((resolve) => setTimeout(resolve, pastOldExpiry));
    assert.deepEqual(await refreshed.command(Command.Ping), [1, 4, null]);
    assert.equal(refreshed.closed, null, 'the refreshed connection stays open');
  });

  test('refresh on a connection without a token: error 110', { timeout: 30_000 }, async () => {
    const anonymous = await ServerProcess.start(['--port', '0', '--host', '127.0.0.1']);
    try {
      const c = await TestClient.connect(anonymous.wsUrl());
      const reply = await c.command(Command.Refresh, await hs256Token({ sub: 'u6' }, { expiresIn: 60 }));
      assert.deepEqual(reply, [2, 1, ErrorCode.InvalidToken, 'this connection has no token to refresh (no key configured, or anonymous)']);
      assert.deepEqual(await c.command(Command.Ping), [1, 2, null], 'the connection stays open');
      await c.close();
    } finally {
      await anonymous.stop();
    }
  });
});

describe('JWT with public keys: RS256 (PEM) and ES256 (JWKS)', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'bc-keys-'));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const servers: ServerProcess[] = [];
  after(async () => {
    await Promise.allSettled(servers.map((s) => s.stop()));
  });

  test('RS256 from a PEM file; HS256 and alg none are refused', { timeout: 60_000 }, async () => {
    writeFileSync(join(dir, 'rsa.pem'), rsa.publicKey.export({ type: 'spki', format: 'pem' }));
    const server = await ServerProcess.start(['--port', '0', '--host', '127.0.0.1', '--jwt-public-key', join(dir, 'rsa.pem')]);
    servers.push(server);
    const good = await new SignJWT({ sub: 'r1' }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('1m').sign(rsa.privateKey);
    const client = await TestClient.connect(server.wsUrl(`?token=${good}`));
    await client.close();
    await assert.rejects(TestClient.connect(server.wsUrl(`?token=${await hs256Token({ sub: 'r1' }, { expiresIn: 60 })}`)), refusedWith(401, /algorithm not allowed|invalid/));
    await assert.rejects(TestClient.connect(server.wsUrl(`?token=${unsignedToken({ sub: 'r1' })}`)), refusedWith(401, /unauthorized/));
  });

  test('ES256 from a JWKS file, key chosen by kid', { timeout: 60_000 }, async () => {
    const jwk = { ...(await exportJWK(ec.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
    const server = await ServerProcess.start(['--port', '0', '--host', '127.0.0.1', '--jwks-file', join(dir, 'jwks.json')]);
    servers.push(server);
    const good = await new SignJWT({ sub: 'e1' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime('1m').sign(ec.privateKey);
    const client = await TestClient.connect(server.wsUrl(`?token=${good}`));
    await client.close();
    const unknownKid = await new SignJWT({ sub: 'e1' }).setProtectedHeader({ alg: 'ES256', kid: 'k2' }).setExpirationTime('1m').sign(ec.privateKey);
    await assert.rejects(TestClient.connect(server.wsUrl(`?token=${unknownKid}`)), refusedWith(401, /unauthorized/));
  });
});
