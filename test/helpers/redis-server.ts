import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import Redis, { type RedisOptions } from 'ioredis';
import { freePort } from './free-port';
import { sleep } from './wait';

/** A private redis-server on a free loopback port, owned by one test file. */
export class TestRedis {
  private proc: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  /** Starts a redis-server without persistence on a free port. */
  static async start(): Promise<TestRedis> {
    const redis = new TestRedis(await freePort());
    await redis.restart();
    return redis;
  }

  /** The URL servers use to reach it. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port and waits until it answers PING. */
  async restart(): Promise<void> {
    if (this.proc !== null) throw new Error('redis-server is already running; call kill() first');
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    this.proc = proc;
    proc.once('exit', () => {
      if (this.proc === proc) this.proc = null;
    });
    const deadline = Date.now() + 5000;
    for (;;) {
      const client = this.client({ retryStrategy: () => null, lazyConnect: true });
      try {
        await client.connect();
        await client.ping();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${this.port}`);
        await sleep(30);
      } finally {
        client.disconnect();
      }
    }
  }

  /** A new client connection (the caller disconnects it). */
  client(options: RedisOptions = {}): Redis {
    return new Redis({ port: this.port, host: '127.0.0.1', maxRetriesPerRequest: 1, ...options });
  }

  /** Kills the server by PID (SIGKILL: a crash, not a clean stop) and waits for it to exit. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (proc === null) return;
    this.proc = null;
    const exited = once(proc, 'exit');
    proc.kill('SIGKILL');
    await exited;
  }
}
