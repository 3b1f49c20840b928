import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { after, describe, test } from 'node:test';
import { Command, ErrorCode } from '../../src/protocol/opcodes';
import { freePort } from '../helpers/free-port';
import { scrapeMetrics } from '../helpers/metrics-text';
import { ServerProcess, type LogLine } from '../helpers/server-process';
import { TestClient, httpPublish } from '../helpers/test-client';
import { TEST_SECRET, hs256Token } from '../helpers/tokens';
import { waitFor } from '../helpers/wait';

/** An HTTP answer with its parsed JSON body. */
interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  json: Record<string, unknown>;
}

/** Sends one HTTP request to `host:port` from the source address `localAddress`. */
function send(port: number, method: string, path: string, options: { localAddress: string; host?: string; body?: string; headers?: Record<string, string> }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: options.host ?? '127.0.0.1', port, method, path, localAddress: options.localAddress, headers: options.headers ?? {} }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.once('error', reject);
    req.end(options.body);
  });
}

const publishFrom = (server: ServerProcess, localAddress: string, channel: string, body: string, headers: Record<string, string> = {}): Promise<Answer> =>
  send(server.port, 'POST', `/v1/channels/${channel}/publish`, { localAddress, body, headers });
const historyFrom = (server: ServerProcess, localAddress: string, channel: string): Promise<Answer> =>
  send(server.port, 'GET', `/v1/channels/${channel}/history`, { localAddress });

/** The `untrusted_network` refusal, with a message that names both fixes. */
function assertUntrusted(answer: Answer, peer: string): void {
  assert.equal(answer.status, 401);
  assert.equal(answer.json.error, 'untrusted_network');
  assert.equal(answer.headers['www-authenticate'], 'Bearer');
  const message = answer.json.message as string;
  assert.match(message, /--api-key/);
  assert.match(message, /--trusted-networks \(127\.0\.0\.1\/32\)/);
  assert.ok(message.includes(`${peer} is outside them`), message);
}

const insecureWarnings = (logs: readonly LogLine[]): string[] =>
  logs.filter((l) => l.level === 40 && typeof l.setting === 'string').map((l) => l.setting as string).sort();

describe('secure defaults', { timeout: 120_000 }, () => {
  const servers: ServerProcess[] = [];
  const clients: TestClient[] = [];
  const start = async (args: string[]): Promise<ServerProcess> => {
    const server = await ServerProcess.start(['--port', '0', ...args]);
    servers.push(server);
    return server;
  };
  const connect = async (url: string): Promise<TestClient> => {
    const client = await TestClient.connect(url);
    clients.push(client);
    return client;
  };
  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await Promise.allSettled(servers.map((s) => s.stop()));
  });

  test('keyless HTTP API with --trusted-networks 127.0.0.1/32: 127.0.0.2 gets 401 untrusted_network, 127.0.0.1 is served', { timeout: 60_000 }, async () => {
    const server = await start(['--host', '0.0.0.0', '--trusted-networks', '127.0.0.1/32']);
    assertUntrusted(await publishFrom(server, '127.0.0.2', 't:1', 'refused'), '127.0.0.2');
    assertUntrusted(await historyFrom(server, '127.0.0.2', 't:1'), '127.0.0.2');
    // Forwarded headers do not make a peer trusted: the socket address decides.
    assertUntrusted(await publishFrom(server, '127.0.0.2', 't:1', 'refused', { 'x-forwarded-for': '127.0.0.1', forwarded: 'for=127.0.0.1' }), '127.0.0.2');
    const accepted = await publishFrom(server, '127.0.0.1', 't:1', 'accepted');
    assert.deepEqual([accepted.status, accepted.json.ok, accepted.json.offset], [200, true, 1], 'the refused publishes stored nothing');
    const history = await historyFrom(server, '127.0.0.1', 't:1');
    assert.deepEqual([history.status, history.json.offset], [200, 1]);
    // Probes stay open to everyone: load balancers call them and they reveal only readiness.
    assert.equal((await send(server.port, 'GET', '/readyz', { localAddress: '127.0.0.2' })).status, 200);
    assert.equal((await send(server.port, 'GET', '/healthz', { localAddress: '127.0.0.2' })).status, 200);
  });

  test('on a dual-stack listener IPv4 peers arrive IPv4-mapped and are matched as IPv4; ::1 is outside 127.0.0.1/32', { timeout: 60_000 }, async () => {
    const server = await start(['--host', '::', '--trusted-networks', '127.0.0.1/32']);
    assertUntrusted(await publishFrom(server, '127.0.0.2', 'm:1', 'refused'), '127.0.0.2');
    assert.equal((await publishFrom(server, '127.0.0.1', 'm:1', 'accepted')).status, 200);
    assertUntrusted(await send(server.port, 'POST', '/v1/channels/m:1/publish', { host: '::1', localAddress: '::1', body: 'refused' }), '::1');
  });

  test('the default trusted networks are loopback: 127.0.0.2 and ::1 are served', { timeout: 60_000 }, async () => {
    const server = await start(['--host', '::']);
    assert.equal((await publishFrom(server, '127.0.0.2', 'd:1', 'x')).status, 200);
    assert.equal((await send(server.port, 'POST', '/v1/channels/d:1/publish', { host: '::1', localAddress: '::1', body: 'y' })).status, 200);
  });

  test('with --api-key the key decides, from any address; trusted networks no longer let keyless requests in', { timeout: 60_000 }, async () => {
    const server = await start(['--host', '127.0.0.1', '--api-key', 'backend-key', '--trusted-networks', '127.0.0.1/32']);
    assert.equal((await publishFrom(server, '127.0.0.2', 'k:1', 'x', { authorization: 'Bearer backend-key' })).status, 200);
    const keyless = await publishFrom(server, '127.0.0.1', 'k:1', 'x');
    assert.deepEqual([keyless.status, keyless.json.error], [401, 'unauthorized']);
  });

  test('client publishing is refused by default with error 108; the channel receives nothing from it', { timeout: 60_000 }, async () => {
    const server = await start(['--host', '127.0.0.1']);
    const subscriber = await connect(server.wsUrl('?channels=chat:1'));
    const publisher = await connect(server.wsUrl());
    const reply = await publisher.command(Command.Publish, 'chat:1', 'from a client');
    assert.deepEqual(reply.slice(0, 3), [2, 1, ErrorCode.Forbidden]);
    assert.match(reply[3] as string, /client publishing is off.*--client-publish.*"publish" claim/);
    assert.equal((await httpPublish(server.http, 'chat:1', 'from a backend')).status, 200);
    const [first] = await subscriber.waitPublications(1, 'chat:1');
    assert.equal(first!.data.toString(), 'from a backend', 'the refused publication never reached the subscriber');
  });

  test('--client-publish chat:* lets clients publish in that namespace only', { timeout: 60_000 }, async () => {
    const server = await start(['--host', '127.0.0.1', '--client-publish', 'chat:*']);
    const subscriber = await connect(server.wsUrl('?channels=chat:1'));
    const publisher = await connect(server.wsUrl());
    assert.equal((await publisher.command(Command.Publish, 'chat:1', 'hello'))[0], 1);
    assert.equal((await subscriber.waitPublications(1, 'chat:1'))[0]!.data.toString(), 'hello');
    assert.deepEqual((await publisher.command(Command.Publish, 'news', 'x')).slice(0, 3), [2, 2, ErrorCode.Forbidden]);
  });

  test('without --client-publish a token\'s publish claim grants publishing, only where it says', { timeout: 60_000 }, async () => {
    const server = await start(['--host', '127.0.0.1', '--jwt-secret', TEST_SECRET]);
    const granted = await connect(server.wsUrl(`?token=${await hs256Token({ sub: 'writer', publish: ['chat:*'] }, { expiresIn: 60 })}`));
    assert.equal((await granted.command(Command.Publish, 'chat:7', 'hi'))[0], 1);
    assert.deepEqual((await granted.command(Command.Publish, 'news', 'x')).slice(0, 3), [2, 2, ErrorCode.Forbidden]);
    const plain = await connect(server.wsUrl(`?token=${await hs256Token({ sub: 'reader' }, { expiresIn: 60 })}`));
    const refused = await plain.command(Command.Publish, 'chat:7', 'hi');
    assert.deepEqual(refused.slice(0, 3), [2, 1, ErrorCode.Forbidden]);
    assert.match(refused[3] as string, /client publishing is off/);
  });

  test('each insecure setting is one warning at start and a 1 in broadcaster_insecure_settings', { timeout: 60_000 }, async () => {
    const adminPort = await freePort();
    const server = await start(['--host', '0.0.0.0', '--client-publish', '*', '--trusted-networks', '127.0.0.0/8,10.0.0.0/8', '--admin-port', String(adminPort)]);
    const all = ['anonymous_public_listener', 'client_publish_all', 'http_api_beyond_loopback'];
    await waitFor('three insecure-setting warnings', () => insecureWarnings(server.logs).length >= 3);
    assert.deepEqual(insecureWarnings(server.logs), all);
    for (const line of server.logs.filter((l) => l.level === 40)) assert.match(line.msg ?? '', /^insecure: .*(--jwt-secret|--client-publish 'chat:\*'|set --api-key)/);
    const metrics = await scrapeMetrics(`http://127.0.0.1:${adminPort}/metrics`);
    for (const setting of all) assert.equal(metrics.get(`broadcaster_insecure_settings{setting="${setting}"}`), 1, setting);
  });

  test('the defaults warn only about anonymous clients on 0.0.0.0; a loopback listener warns about nothing', { timeout: 60_000 }, async () => {
    const adminPort = await freePort();
    const defaults = await start(['--admin-port', String(adminPort)]);
    const loopback = await start(['--host', '127.0.0.1', '--trusted-networks', '0.0.0.0/0']);
    const metrics = await scrapeMetrics(`http://127.0.0.1:${adminPort}/metrics`);
    assert.equal(metrics.get('broadcaster_insecure_settings{setting="anonymous_public_listener"}'), 1);
    assert.equal(metrics.get('broadcaster_insecure_settings{setting="client_publish_all"}'), 0);
    assert.equal(metrics.get('broadcaster_insecure_settings{setting="http_api_beyond_loopback"}'), 0);
    // Stopped servers have written every log line; "stopped" is the last.
    for (const server of [defaults, loopback]) {
      await server.stop();
      await waitFor('the "stopped" log line', () => server.logs.some((l) => l.msg === 'stopped'));
    }
    assert.deepEqual(insecureWarnings(defaults.logs), ['anonymous_public_listener']);
    assert.deepEqual(insecureWarnings(loopback.logs), []);
  });

  test('an invalid --trusted-networks entry stops the start with exit code 2 and names the option', { timeout: 60_000 }, async () => {
    await assert.rejects(start(['--trusted-networks', '127.0.0.1/33']), /exited \(2\)[\s\S]*invalid trustedNetworks entry "127\.0\.0\.1\/33".*--trusted-networks/);
    await assert.rejects(start(['--trusted-networks', 'localhost']), /exited \(2\)[\s\S]*"localhost" is not an IP address or CIDR network/);
  });
});
