import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import Redis, { type RedisOptions } from 'ioredis';
import { freePort } from './free-port';
import { sleep } from './wait';

/** A private redis-server on a free loopback port, owned by one test file. */
export class TestRedis {
  private proc: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
  ) {}

  /**
   * Starts a redis-server on a free port: without persistence, or with `persistent` an
   * append-only file (fsync on every write) in a fresh temporary directory, so a restart keeps data.
   * `args` are extra redis-server arguments (e.g. `--enable-debug-command local`).
   */
  static async start(options: { persistent?: boolean; args?: string[] } = {}): Promise<TestRedis> {
    const args = options.persistent
      ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', mkdtempSync(join(tmpdir(), 'bc-redis-'))]
      : ['--appendonly', 'no'];
    const redis = new TestRedis(await freePort(), [...args, ...(options.args ?? [])]);
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
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...this.extraArgs], {
      stdio: 'ignore',
    });
    this.proc = proc;
    proc.once('exit', () => {
      if (this.proc === proc) this.proc = null;
    });
    const deadline = Date.now() + 5000;
    for (;;) {
      const client = this.client({ retryStrategy: () => null, lazyConnect: true });
      client.on('error', () => {});
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

  /** Sends a signal to the server by PID (SIGSTOP/SIGCONT stall and resume it). */
  signal(signal: NodeJS.Signals): void {
    this.proc?.kill(signal);
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
