import { after, before } from 'node:test';
import { deliverySuite } from '../helpers/delivery-suite';
import { TestRedisCluster } from '../helpers/redis-cluster';
import { recoverySuite } from '../helpers/recovery-suite';
import { startReadyWith } from '../helpers/server-process';

// Servers are started ready (the shard probes went round), so the first subscribe has a position.
// One cluster (3 masters + 3 replicas) for both suites: each starts its own server on it.
let cluster: TestRedisCluster;
before(async () => {
  cluster = await TestRedisCluster.start();
});
after(async () => {
  await cluster.stop();
});

const clusterArgs = (): string[] => ['--port', '0', '--host', '127.0.0.1', '--redis-cluster-nodes', cluster.startupNodes.map((n) => `${n.host}:${n.port}`).join(',')];

// The delivery suite publishes over WebSocket: client publishing is off by default, so it is enabled here.
deliverySuite('redis cluster broker', () =>
  startReadyWith([...clusterArgs(), '--max-message-size', '4096', '--max-subscriptions-per-connection', '8', '--history-size', '0', '--client-publish', '*']),
);
recoverySuite('redis cluster broker', (args) => startReadyWith([...clusterArgs(), '--redis-prefix', 'rec:', ...args]));
