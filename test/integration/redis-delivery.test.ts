import { after, before } from 'node:test';
import { deliverySuite } from '../helpers/delivery-suite';
import { TestRedis } from '../helpers/redis-server';
import { ServerProcess } from '../helpers/server-process';

let redis: TestRedis;
before(async () => {
  redis = await TestRedis.start();
});
after(async () => {
  await redis.kill();
});

deliverySuite('redis broker', () =>
  ServerProcess.start(['--port', '0', '--host', '127.0.0.1', '--redis-url', redis.url, '--max-message-size', '4096', '--max-subscriptions-per-connection', '8', '--history-size', '0']),
);
