/**
 * A private redis-server for one test file, benchmark run or script, on a free loopback port
 * (never the shared one on 6379). It counts as started only when *its own* log says it accepts
 * connections, so a PING can never reach another file's Redis on a reused port; an unexpected
 * exit is noticed at once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { type RedisOptions } from 'ioredis';
import { freePort } from './ports';
import { type RunningProcess, startProcess } from './processes';

/** redis-server's log line once it accepts connections. */
const READY = /Ready to accept connections/;
/** Tries at a fresh port when another process took the chosen one between check and bind. */
const BIND_ATTEMPTS = 5;

/** A private redis-server; `kill()` and `restart()` crash and revive it on the same port. */
export class TestRedis {
  private proc: RunningProcess | null = null;
  /** Exit code or signal of an exit this helper did not cause, or null. */
  private died: string | null = null;

  private constructor(
    private portNumber: number,
    private readonly args: string[],
  ) {}

  /**
   * Starts a redis-server: without persistence, or with `persistent` an append-only file
   * (fsync on every write) in a fresh temporary directory, so a restart keeps data. `args` are
   * extra redis-server arguments (e.g. `--enable-debug-command local`).
   */
  static async start(options: { persistent?: boolean; args?: string[]; bin?: string } = {}): Promise<TestRedis> {
    const persistence = options.persistent
      ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', mkdtempSync(join(tmpdir(), 'bc-redis-'))]
      : ['--appendonly', 'no'];
    const redis = new TestRedis(0, [...persistence, ...(options.args ?? [])]);
    for (let attempt = 1; ; attempt++) {
      redis.portNumber = await freePort();
      try {
        await redis.launch(options.bin ?? 'redis-server');
        return redis;
      } catch (err) {
        // redis-server cannot listen on port 0: a port taken meanwhile means another try, anything else is fatal.
        if (attempt >= BIND_ATTEMPTS || !/Address already in use/i.test(String((err as Error).message))) throw err;
      }
    }
  }

  /** Its port. */
  get port(): number {
    return this.portNumber;
  }

  /** The URL servers use to reach it. */
  get url(): string {
    return `redis://127.0.0.1:${this.portNumber}`;
  }

  /** Its PID while it runs (its CPU time is reported beside the server's). */
  get pid(): number {
    if (this.proc === null) throw new Error('redis-server is not running');
    return this.proc.pid;
  }

  /** Its last log lines. */
  get tail(): string[] {
    return this.proc?.tail ?? [];
  }

  /** Counts its log lines matching `pattern` from now until it stops or restarts; returns the reader of the count. */
  countLog(pattern: RegExp): () => number {
    if (this.proc === null) throw new Error('redis-server is not running');
    return this.proc.countLines(pattern);
  }

  /** True while it runs. */
  alive(): boolean {
    return this.proc?.alive() ?? false;
  }

  /** Throws when redis-server exited without being told to (a test should not go on against nothing). */
  assertAlive(): void {
    if (this.died !== null) throw new Error(`the private redis-server on port ${this.portNumber} exited unexpectedly (${this.died})`);
  }

  /** Starts (again) on the same port; resolves once it logged that it accepts connections. */
  async restart(): Promise<void> {
    if (this.proc !== null) throw new Error('redis-server is already running; call kill() first');
    await this.launch('redis-server');
  }

  private async launch(bin: string): Promise<void> {
    const proc = await startProcess(
      { cmd: bin, args: ['--port', String(this.portNumber), '--bind', '127.0.0.1', '--save', '', ...this.args] },
      { listeningLines: 0, keepLogs: false },
    );
    this.proc = proc;
    this.died = null;
    proc.exited().then((code) => {
      if (this.proc !== proc) return;
      this.proc = null;
      this.died = `code ${code ?? proc.child.signalCode}: ${proc.tail.slice(-3).join(' | ')}`;
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`redis-server on port ${this.portNumber} did not log readiness within 10 s: ${proc.tail.join(' | ')}`)),
        10_000,
      );
      const check = setInterval(() => {
        if (proc.tail.some((line) => READY.test(line))) done(null);
        else if (!proc.alive()) done(new Error(`redis-server on port ${this.portNumber} exited before it was ready: ${proc.tail.join(' | ')}`));
      }, 10);
      const done = (err: Error | null): void => {
        clearTimeout(timer);
        clearInterval(check);
        if (err === null) resolve();
        else reject(err);
      };
    }).catch(async (err: Error) => {
      this.proc = null;
      await proc.stop(0);
      throw err;
    });
  }

  /** A new client connection (the caller disconnects it). */
  client(options: RedisOptions = {}): Redis {
    this.assertAlive();
    return new Redis({ port: this.portNumber, host: '127.0.0.1', maxRetriesPerRequest: 1, ...options });
  }

  /** Sends a signal to the server by PID (SIGSTOP/SIGCONT stall and resume it). */
  signal(signal: NodeJS.Signals): void {
    this.proc?.signal(signal);
  }

  /** Kills the server by PID (SIGKILL: a crash, not a clean stop) and waits for it to exit. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (proc === null) return;
    this.proc = null;
    await proc.stop(0);
  }

  /** Stops the server by PID (SIGTERM, SIGKILL after 3 s). */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc === null) return;
    this.proc = null;
    await proc.stop(3000);
  }
}

/** Starts a private redis-server for a benchmark or script run (no persistence). */
export function startRedis(bin = 'redis-server'): Promise<TestRedis> {
  return TestRedis.start({ bin });
}
