import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type BroadcasterError, Client, type ClientOptions, type PresenceEntry, type Subscription } from '../../src/client/index';
import { cleanupSteps } from '../helpers/cleanup';
import { TestRedis } from '../helpers/redis-server';
import { type ServerProcess, startReady } from '../helpers/server-process';
import { TEST_SECRET, hs256Token } from '../helpers/tokens';
import { waitFor } from '../helpers/wait';

const FAST_RECONNECT: ClientOptions = { reconnect: { initialDelay: 100, maxDelay: 500, factor: 2 } };
/** The documented time after which a dead process's entries are gone, for these tests (seconds). */
const TTL_SECONDS = 2;
const ARGS = ['--presence-namespaces', 'chat:', '--presence-ttl', String(TTL_SECONDS), '--jwt-secret', TEST_SECRET];

/** A Node SDK client on `channel` with join/leave events, recording them. */
class Member {
  readonly joins: PresenceEntry[] = [];
  readonly leaves: PresenceEntry[] = [];
  readonly sub: Subscription;
  subscribedCount = 0;

  constructor(
    readonly client: Client,
    channel: string,
  ) {
    this.sub = client.subscribe(
      channel,
      { join: (e) => this.joins.push(e), leave: (e) => this.leaves.push(e), subscribed: () => this.subscribedCount++ },
      { joinLeave: true },
    );
    client.connect();
  }

  async ready(count = 1): Promise<void> {
    await waitFor('subscribed', () => this.subscribedCount >= count, 10_000);
  }

  async presentClients(): Promise<string[]> {
    return (await this.sub.presence()).entries.map((e) => e.client).sort();
  }
}

const member = async (urls: string[], user: string, channel = 'chat:1'): Promise<Member> => {
  const token = await hs256Token({ sub: user, info: { name: user.toUpperCase() } });
  return new Member(new Client(urls, { ...FAST_RECONNECT, token }), channel);
};

const httpPresence = async (http: string, channel: string) => (await fetch(`${http}/v1/channels/${channel}/presence`)).json() as Promise<Record<string, unknown>>;

describe('presence across processes through Redis', { timeout: 120_000 }, () => {
  const steps = cleanupSteps();
  /** A private redis-server and two processes on it, all stopped by the cleanup steps. */
  const twoProcesses = async (): Promise<{ a: ServerProcess; b: ServerProcess }> => {
    const redis = await TestRedis.start();
    steps.push(() => redis.kill());
    const a = await startReady(redis.url, ARGS);
    steps.push(() => a.stop());
    const b = await startReady(redis.url, ARGS);
    steps.push(() => b.stop());
    return { a, b };
  };

  test('lists, counts and join/leave events span both processes; the HTTP API and the command agree', { timeout: 60_000 }, async () => {
    const { a, b } = await twoProcesses();

    const ada = await member([a.wsUrl()], 'ada');
    steps.push(async () => ada.client.close());
    await ada.ready();
    const bob = await member([b.wsUrl()], 'bob');
    steps.push(async () => bob.client.close());
    await bob.ready();
    const adaId = (await ada.sub.presence()).client!;
    const bobId = (await bob.sub.presence()).client!;
    assert.notEqual(adaId, bobId);

    await waitFor('ada to see bob join', () => ada.joins.some((e) => e.client === bobId));
    assert.deepEqual(ada.joins.find((e) => e.client === bobId), { client: bobId, user: 'bob', info: { name: 'BOB' } });
    assert.deepEqual(await ada.presentClients(), [adaId, bobId].sort());
    assert.deepEqual(await bob.presentClients(), [adaId, bobId].sort());
    assert.deepEqual(await ada.sub.presenceCounts(), { clients: 2, users: 2 });

    // A second connection of ada: one more client, still two users.
    const ada2 = await member([b.wsUrl()], 'ada');
    steps.push(async () => ada2.client.close());
    await ada2.ready();
    const body = await httpPresence(a.http, 'chat:1');
    assert.equal(body.clients, 3);
    assert.equal(body.users, 2);
    assert.deepEqual(await (await fetch(`${b.http}/v1/channels/chat:1/presence/counts`)).json(), { channel: 'chat:1', clients: 3, users: 2 });

    // Unsubscribe and close both leave.
    ada2.sub.unsubscribe();
    bob.client.close();
    await waitFor('ada to see both leave', () => ada.leaves.length === 2);
    assert.deepEqual(ada.leaves.map((e) => e.user).sort(), ['ada', 'bob']);
    assert.deepEqual(await ada.presentClients(), [adaId]);
    assert.ok(!ada.leaves.some((e) => e.client === adaId), 'ada never left');
  });

  test('a process killed with SIGKILL: its entries disappear within the ttl, leaves follow, the reconnected client joins again', { timeout: 60_000 }, async () => {
    const { a, b } = await twoProcesses();
    const watcher = await member([a.wsUrl()], 'watcher', 'chat:k');
    steps.push(async () => watcher.client.close());
    await watcher.ready();
    const mover = await member([b.wsUrl(), a.wsUrl()], 'mover', 'chat:k');
    steps.push(async () => mover.client.close());
    await mover.ready();
    const oldId = (await mover.sub.presence()).client!;
    await waitFor('the mover on the list', async () => (await watcher.presentClients()).includes(oldId));

    b.signal('SIGKILL');
    await b.exited();
    await mover.ready(2);
    const newId = (await mover.sub.presence()).client!;
    assert.notEqual(newId, oldId);
    await waitFor('the dead process\'s entry to disappear', async () => !(await watcher.presentClients()).includes(oldId), 3 * TTL_SECONDS * 1000);
    await waitFor('the leave of the old id', () => watcher.leaves.some((e) => e.client === oldId), 3 * TTL_SECONDS * 1000);
    assert.deepEqual(watcher.joins.filter((e) => e.user === 'mover').map((e) => e.client), [oldId, newId], 'each join once, in order');
    assert.deepEqual(watcher.leaves.filter((e) => e.user === 'mover').map((e) => e.client), [oldId], 'one leave, for the dead process\'s entry');
    const watcherId = (await watcher.sub.presence()).client!;
    assert.deepEqual(await watcher.presentClients(), [watcherId, newId].sort());
    assert.deepEqual(await (await fetch(`${a.http}/v1/channels/chat:k/presence/counts`)).json(), { channel: 'chat:k', clients: 2, users: 2 });
  });

  test('channels outside --presence-namespaces: 111 / 404 no_presence; HTTP presence follows the API access rules', { timeout: 60_000 }, async () => {
    const redis = await TestRedis.start();
    steps.push(() => redis.kill());
    const a = await startReady(redis.url, [...ARGS, '--api-key', 'k1']);
    steps.push(() => a.stop());
    const token = await hs256Token({ sub: 'u' });
    const client = new Client(a.wsUrl(), { token });
    steps.push(async () => client.close());
    const errors: BroadcasterError[] = [];
    const plain = client.subscribe('news', { error: (e) => errors.push(e) }, { joinLeave: true });
    client.connect();
    await waitFor('the refusal', () => errors.length === 1);
    assert.equal(errors[0]!.code, 111);
    const news = client.subscribe('news2');
    await waitFor('subscribed', () => news.state === 'subscribed');
    await assert.rejects(news.presence(), (err: BroadcasterError) => err.code === 111);
    assert.equal(plain.state, 'unsubscribed');
    const auth = { Authorization: 'Bearer k1' };
    const missing = await fetch(`${a.http}/v1/channels/news/presence`, { headers: auth });
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: string }).error, 'no_presence');
    assert.equal((await fetch(`${a.http}/v1/channels/chat:1/presence`)).status, 401, 'a key is required once keys are set');
    assert.deepEqual(await (await fetch(`${a.http}/v1/channels/chat:1/presence`, { headers: auth })).json(), { channel: 'chat:1', clients: 0, users: 0, entries: [] });
    assert.equal((await fetch(`${a.http}/v1/channels/chat:1/presence`, { method: 'POST', headers: auth })).status, 405);
  });
});
