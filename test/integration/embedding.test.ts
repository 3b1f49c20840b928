import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryBroker } from '../../src/broker/memory-broker';
import { HistoryPolicies } from '../../src/config/history-policy';
import { createLogger } from '../../src/log/logger';
import { BroadcasterServer, type BrokerContext } from '../../src/server';
import { cleanupSteps } from '../helpers/cleanup';
import { TestClient } from '../helpers/test-client';

describe('embedding: BroadcasterServer with an injected broker', { timeout: 30_000 }, () => {
  const cleanup = cleanupSteps();

  test('a broker factory gets the server policies and carries its publications to WebSocket clients', { timeout: 60_000 }, async () => {
    let given: BrokerContext | null = null;
    const server = new BroadcasterServer(
      { port: 0, host: '127.0.0.1', historyNamespaces: 'h:=5/60' },
      {
        logger: createLogger('silent'),
        broker: (context) => {
          given = context;
          return new MemoryBroker(context.policies, context.options.historyMetaTtl);
        },
      },
    );
    cleanup.push(() => server.stop());
    assert.ok(given !== null);
    assert.equal((given as BrokerContext).policies, server.policies, 'one HistoryPolicies, shared');
    assert.equal(server.broker.kind, 'memory');
    const port = await server.start();
    const client = await TestClient.connect(`ws://127.0.0.1:${port}/ws?channels=h:1`);
    cleanup.push(() => client.close());
    const { position } = await server.publish('h:1', 'hello');
    assert.equal(position?.offset, 1, 'h: keeps history (the namespace of the options)');
    const [publication] = await client.waitPublications(1);
    assert.deepEqual(publication, { channel: 'h:1', offset: 1, data: 'hello' });
  });

  test('a broker instance is used as given, and closed by stop()', { timeout: 60_000 }, async () => {
    const broker = new MemoryBroker(new HistoryPolicies({ historySize: 0, historyTtl: 60, historyNamespaces: '' }), 60);
    const server = new BroadcasterServer({ port: 0, host: '127.0.0.1' }, { logger: createLogger('silent'), broker });
    assert.equal(server.broker, broker);
    await server.start();
    assert.ok(broker.isReady(), 'started by start()');
    await server.stop();
    assert.ok(!broker.isReady(), 'closed by stop()');
  });
});
