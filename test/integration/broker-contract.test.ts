import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Broker } from '../../src/broker/broker';
import { MemoryBroker } from '../../src/broker/memory-broker';
import { RedisBroker } from '../../src/broker/redis-broker';
import { createLogger } from '../../src/log/logger';
import { TestRedis } from '../helpers/redis-server';
import { waitFor } from '../helpers/wait';

type Received = Array<[string, Buffer]>;

/** The contract every broker implementation keeps, run against each one. */
function brokerContract(name: string, create: () => Broker): void {
  describe(`broker contract: ${name}`, () => {
    let broker: Broker;
    const received: Received = [];
    const states: boolean[] = [];

    before(async () => {
      broker = create();
      broker.onMessage((channel, envelope) => received.push([channel, Buffer.from(envelope)]));
      broker.onState((ready) => states.push(ready));
      await broker.start();
      await waitFor(`${name} ready`, () => broker.isReady());
    });
    after(async () => {
      await broker.close();
    });

    test('reports readiness', () => {
      assert.equal(broker.readinessReason(), 'ready');
      assert.equal(states.at(-1), true);
    });

    test('a publish after subscribe resolved is delivered, bytes unchanged, in order', async () => {
      await broker.subscribe('c:1');
      const payloads = [Buffer.from([0x92, 1, 0xc4, 0]), Buffer.alloc(70_000, 9), Buffer.from('x')];
      for (const p of payloads) await broker.publish('c:1', p);
      await waitFor('3 messages', () => received.filter(([c]) => c === 'c:1').length === 3);
      assert.deepEqual(received.filter(([c]) => c === 'c:1').map(([, b]) => b), payloads);
    });

    test('channels not subscribed are not delivered; unsubscribe stops delivery', async () => {
      await broker.subscribe('c:2');
      await broker.subscribe('c:3');
      broker.unsubscribe('c:2');
      await new Promise((resolve) => setImmediate(resolve));
      await broker.publish('c:2', Buffer.from('no'));
      await broker.publish('c:none', Buffer.from('no'));
      await broker.publish('c:3', Buffer.from('sentinel'));
      await waitFor('sentinel', () => received.some(([c]) => c === 'c:3'));
      assert.equal(received.filter(([c]) => c === 'c:2' || c === 'c:none').length, 0);
    });

    test('subscribe and unsubscribe are idempotent and tracked', async () => {
      await broker.subscribe('c:4');
      await broker.subscribe('c:4');
      assert.ok(broker.subscribedChannels().has('c:4'));
      broker.unsubscribe('c:4');
      broker.unsubscribe('c:4');
      assert.equal(broker.subscribedChannels().has('c:4'), false);
    });

    test('after close: not ready and publish rejects', async () => {
      const other = create();
      await other.start();
      await waitFor('ready', () => other.isReady());
      await other.close();
      assert.equal(other.isReady(), false);
      assert.match(other.readinessReason(), /closed/);
      await assert.rejects(other.publish('c:1', Buffer.from('x')));
    });
  });
}

let redis: TestRedis;
before(async () => {
  redis = await TestRedis.start();
});
after(async () => {
  await redis.kill();
});

const logger = createLogger('silent');
brokerContract('memory', () => new MemoryBroker());
brokerContract('redis', () => new RedisBroker({ url: redis.url, prefix: 'contract:', logger }));
