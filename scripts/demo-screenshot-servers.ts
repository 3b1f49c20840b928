// Two demo processes on a private redis-server, for scripts/demo-screenshot.ts.
import { type ServerProcess, startReady } from '../harness/broadcaster';
import { TestRedis } from '../harness/redis';

/** Starts a redis-server and two `--demo` processes on it; `stop` ends all three by PID. */
export async function startReadyOn(): Promise<{ a: ServerProcess; b: ServerProcess; stop: () => Promise<void> }> {
  const redis = await TestRedis.start();
  const a = await startReady(redis.url, ['--demo']);
  const b = await startReady(redis.url, ['--demo']);
  return {
    a,
    b,
    stop: async () => {
      await a.stop();
      await b.stop();
      await redis.kill();
    },
  };
}
