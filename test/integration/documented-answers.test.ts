import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import WebSocket from 'ws';
import { Command, ErrorCode } from '../../src/protocol/opcodes';
import { DrainHold } from '../helpers/drain-hold';
import { freePort } from '../helpers/free-port';
import { scrapeMetrics } from '../helpers/metrics-text';
import { RawHttp, upgradeRequest } from '../helpers/raw-http';
import { ServerProcess } from '../helpers/server-process';
import { TestClient, httpPublish } from '../helpers/test-client';
import { waitFor } from '../helpers/wait';

type Refusal = Error & { status?: number; body?: string };
const BASE = ['--port', '0', '--host', '127.0.0.1'];
const TIMEOUT = { timeout: 30_000 };

/** The refusal of a WebSocket handshake to `url`: HTTP status and parsed JSON body. */
async function refusal(url: string, options: WebSocket.ClientOptions = {}): Promise<{ status: number; body: { error: string; message: string } }> {
  const outcome = await new Promise<Refusal | WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(Object.assign(new Error('refused'), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
  if (outcome instanceof WebSocket) {
    outcome.terminate();
    throw new Error(`${url} was not refused`);
  }
  return { status: outcome.status!, body: JSON.parse(outcome.body!) as { error: string; message: string } };
}

/** Status and JSON body of a fetch. */
async function json(res: Response | Promise<Response>): Promise<{ status: number; error: string | undefined }> {
  const r = await res;
  return { status: r.status, error: ((await r.json()) as { error?: string }).error };
}

/** Every documented refusal answers with its status and its `error` string (docs/PROTOCOL.md, SECURITY.md). */
describe('documented answers (memory broker)', { timeout: 120_000 }, () => {
  const servers: ServerProcess[] = [];
  const clients: TestClient[] = [];
  const start = async (args: string[]): Promise<ServerProcess> => {
    const s = await ServerProcess.start([...BASE, ...args]);
    servers.push(s);
    return s;
  };
  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await Promise.allSettled(servers.map((s) => s.stop()));
  });

  test('handshake refusals: origin_not_allowed, too_many_connections (429 and 503), upgrade_required', TIMEOUT, async () => {
    const server = await start(['--allowed-origins', 'https://app.example.com', '--max-connections', '2', '--max-connections-per-ip', '1']);
    const origin = await refusal(server.wsUrl(), { origin: 'https://evil.example.com' });
    assert.deepEqual([origin.status, origin.body.error], [403, 'origin_not_allowed']);
    assert.match(origin.body.message, /https:\/\/evil\.example\.com is not in --allowed-origins/);
    clients.push(await TestClient.connect(server.wsUrl()));
    const perIp = await refusal(server.wsUrl());
    assert.deepEqual([perIp.status, perIp.body.error], [429, 'too_many_connections']);
    assert.match(perIp.body.message, /--max-connections-per-ip 1/);
    const other = new WebSocket(server.wsUrl(), { localAddress: '127.0.0.2' });
    await new Promise<void>((resolve, reject) => {
      other.once('open', () => resolve());
      other.once('error', reject);
    });
    const full = await refusal(server.wsUrl(), { localAddress: '127.0.0.3' });
    assert.deepEqual([full.status, full.body.error], [503, 'too_many_connections']);
    assert.match(full.body.message, /maximum of 2 connections/);
    other.terminate();
    for (const query of ['?channels=bad%20name', '?channels=a&positions=yes', '?channels=a&since=a:x:e']) {
      const invalid = await refusal(server.wsUrl(query), { localAddress: '127.0.0.4' });
      assert.deepEqual([invalid.status, invalid.body.error], [400, 'invalid_channel'], query);
    }
    const plain = await fetch(`${server.http}/ws`);
    assert.deepEqual([plain.status, plain.headers.get('upgrade'), ((await plain.json()) as { error: string }).error], [426, 'websocket', 'upgrade_required']);
  });

  test('handshake while the process drains: 503 shutting_down', TIMEOUT, async () => {
    const adminPort = await freePort();
    const server = await ServerProcess.start([...BASE, '--admin-port', String(adminPort)]);
    servers.push(server);
    // A keep-alive connection made before the drain: the listener closes, this connection stays.
    const raw = await RawHttp.open(server.port);
    raw.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.equal((await raw.answer()).status, 200);
    const hold = await DrainHold.open(adminPort);
    try {
      server.signal('SIGTERM');
      await waitFor('the drain to begin', () => server.logs.some((l) => l.msg === 'shutdown: closed clients'));
      raw.write(upgradeRequest('/ws?channels=late'));
      const answer = await raw.answer();
      assert.equal(answer.status, 503);
      assert.equal((JSON.parse(answer.body) as { error: string }).error, 'shutting_down');
    } finally {
      raw.destroy();
      hold.release();
    }
    assert.equal(await server.exited(), 0);
  });

  test('HTTP publish: 413 from the declared Content-Length alone, before any body byte', TIMEOUT, async () => {
    const server = await start(['--max-message-size', '4096']);
    const raw = await RawHttp.open(server.port);
    raw.write('POST /v1/channels/big/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4097\r\n\r\n');
    const answer = await raw.answer();
    assert.equal(answer.status, 413);
    assert.equal((JSON.parse(answer.body) as { error: string }).error, 'message_too_large');
    await raw.untilClosed();
    const exact = await httpPublish(server.http, 'big', Buffer.alloc(4096));
    assert.equal(exact.status, 200, 'exactly --max-message-size is accepted');
  });

  test('history: invalid channel, bad since and limit, 401/403 with keys, 404 and 405', TIMEOUT, async () => {
    const server = await start(['--api-key', 'k1', '--history-namespaces', 'none:=0/0']);
    const auth = { authorization: 'Bearer k1' };
    const get = (path: string, headers: Record<string, string> = auth) => json(fetch(`${server.http}/v1/channels/${path}`, { headers }));
    assert.deepEqual(await get('a%20b/history'), { status: 400, error: 'invalid_channel' });
    assert.deepEqual(await get('h:1/history?limit=abc'), { status: 400, error: 'invalid_parameter' });
    assert.deepEqual(await get('h:1/history?limit=-1'), { status: 400, error: 'invalid_parameter' });
    assert.deepEqual(await get('h:1/history?since=1.5'), { status: 400, error: 'invalid_parameter' });
    assert.deepEqual(await get('h:1/history', {}), { status: 401, error: 'unauthorized' });
    assert.deepEqual(await get('h:1/history', { authorization: 'Bearer k2' }), { status: 403, error: 'forbidden' });
    assert.deepEqual(await get('none:1/history'), { status: 404, error: 'no_history' });
    assert.deepEqual(await json(fetch(`${server.http}/v1/channels/h:1/history`, { method: 'DELETE', headers: auth })), { status: 405, error: 'method_not_allowed' });
    const getPublish = await fetch(`${server.http}/v1/channels/h:1/publish`, { headers: auth });
    assert.deepEqual([getPublish.headers.get('allow'), await json(getPublish)], ['POST', { status: 405, error: 'method_not_allowed' }]);
    for (let i = 1; i <= 3; i++) await fetch(`${server.http}/v1/channels/h:1/publish`, { method: 'POST', body: String(i), headers: auth });
    const page = (await (await fetch(`${server.http}/v1/channels/h:1/history?since=0&limit=2`, { headers: auth })).json()) as { offset: number; publications: Array<{ offset: number }> };
    assert.deepEqual([page.offset, page.publications.map((p) => p.offset)], [3, [1, 2]]);
  });

  test('--client-subscribe: URL and command subscriptions outside the patterns are refused', TIMEOUT, async () => {
    // --client-publish '*' so publishing is allowed everywhere here: the point is that --client-subscribe does not restrict it.
    const server = await start(['--client-subscribe', 'pub:*,exact', '--client-publish', '*']);
    const refused = await refusal(server.wsUrl('?channels=pub:1,other'));
    assert.deepEqual([refused.status, refused.body.error], [403, 'forbidden_channel']);
    assert.match(refused.body.message, /other/);
    const c = await TestClient.connect(server.wsUrl('?channels=pub:1,exact'));
    clients.push(c);
    assert.deepEqual((await c.command(Command.Subscribe, 'exact:no')).slice(0, 3), [2, 1, ErrorCode.Forbidden]);
    assert.equal((await c.command(Command.Subscribe, 'pub:2'))[0], 1);
    // Publishing is governed by --client-publish, not by --client-subscribe.
    assert.equal((await c.command(Command.Publish, 'other', 'x'))[0], 1);
  });

  test('--compression dedicated: negotiated per connection, frames arrive inflated, a bomb closes only its connection', TIMEOUT, async () => {
    const server = await start(['--compression', 'dedicated', '--max-message-size', '4096']);
    const ws = new WebSocket(server.wsUrl('?channels=z:1'), { perMessageDeflate: { threshold: 0 } });
    const message = new Promise<Buffer>((resolve) => ws.once('message', (d: Buffer) => resolve(d)));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    assert.match(ws.extensions, /permessage-deflate/);
    const text = 'compressible '.repeat(200);
    assert.equal((await httpPublish(server.http, 'z:1', text)).status, 200);
    assert.ok((await message).includes(Buffer.from(text)));
    const bomber = new WebSocket(server.wsUrl(), { perMessageDeflate: { threshold: 0 } });
    await new Promise<void>((resolve) => bomber.once('open', () => resolve()));
    const code = await new Promise<number>((resolve) => {
      bomber.once('close', (c: number) => resolve(c));
      bomber.send(Buffer.alloc(4 * 1024 * 1024));
    });
    assert.ok(code === 1006 || code === 1009, `closed with ${code}`);
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
  });

  test('recovery metrics: recoveries_succeeded / failed and publications_recovered', TIMEOUT, async () => {
    const adminPort = await freePort();
    const server = await start(['--admin-port', String(adminPort), '--history-namespaces', 'short:=2/60']);
    const c = await TestClient.connect(server.wsUrl());
    clients.push(c);
    const [, , first] = await c.command(Command.Subscribe, 'rm:1');
    const { epoch } = first as { epoch: string };
    for (let i = 1; i <= 5; i++) await httpPublish(server.http, 'rm:1', String(i));
    for (let i = 1; i <= 3; i++) await httpPublish(server.http, 'short:1', String(i));
    const late = await TestClient.connect(server.wsUrl(`?channels=rm:1&since=rm:1:1:${epoch}`));
    clients.push(late);
    await late.until('result', () => late.frames.some((f) => f[0] === 3));
    assert.deepEqual(late.publications().map((p) => p.offset), [2, 3, 4, 5]);
    const shortEpoch = ((await c.command(Command.Subscribe, 'short:1'))[2] as { epoch: string }).epoch;
    assert.deepEqual((await late.command(Command.Subscribe, 'short:1', 0, shortEpoch))[2], { offset: 3, epoch: shortEpoch, recovered: false });
    const m = await scrapeMetrics(`http://127.0.0.1:${adminPort}/metrics`);
    assert.equal(m.get('broadcaster_recoveries_succeeded_total'), 1);
    assert.equal(m.get('broadcaster_recoveries_failed_total'), 1);
    assert.equal(m.get('broadcaster_publications_recovered_total'), 4);
  });
});
