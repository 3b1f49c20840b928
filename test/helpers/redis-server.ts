/** Private redis-servers for tests: the shared harness (harness/redis.ts). */
export { TestRedis } from '../../harness/redis';
