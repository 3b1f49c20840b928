import { after, before } from 'node:test';
import { deliverySuite } from '../helpers/delivery-suite';
import { TestRedis } from '../helpers/redis-server';
import { startReadyWith } from '../helpers/server-process';

let redis: TestRedis;
before(async () => {
  redis = await TestRedis.start();
});
after(async () => {
  await redis.kill();
});

// The suite publishes over WebSocket: client publishing is off by default, so it is enabled here.
// Ready, not only listening: a publish before the broker is connected is answered 503.
deliverySuite('redis broker', () =>
  startReadyWith(['--port', '0', '--host', '127.0.0.1', '--redis-url', redis.url, '--max-message-size', '4096', '--max-subscriptions-per-connection', '8', '--history-size', '0', '--client-publish', '*']),
);
