/** A real broadcaster process started from the compiled CLI, as tests and scripts run it. */
import { join } from 'node:path';
import { type LogLine, type RunningProcess, startProcess } from './processes';

export type { LogLine } from './processes';

/** Path of the compiled CLI entry point. */
export const CLI = join(__dirname, '..', 'src', 'cli', 'main.js');

/** A broadcaster process with its logs captured; its port is the one it logged as bound. */
export class ServerProcess {
  private constructor(private readonly proc: RunningProcess) {}

  /**
   * Starts `broadcaster <args>` and resolves once it logged "listening" (with `--port 0` that
   * line names the port the kernel gave it); rejects at once when the process exits first.
   */
  static async start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
    // One process unless the test asks for workers: the default is one worker per core with Redis.
    const withWorkers = !args.includes('--workers') && env.BROADCASTER_WORKERS === undefined ? ['--workers', '1', ...args] : args;
    return new ServerProcess(await startProcess({ cmd: process.execPath, args: [CLI, ...withWorkers], env }, { timeoutMs: 10_000 }));
  }

  /** Every JSON log line seen so far. */
  get logs(): LogLine[] {
    return this.proc.logs;
  }

  /** Raw stderr text. */
  get stderr(): string {
    return this.proc.stderr;
  }

  /** The bound port (from the "listening" line). */
  get port(): number {
    return this.proc.port;
  }

  /** The process id. */
  get pid(): number {
    return this.proc.pid;
  }

  /** Base URL of the HTTP API. */
  get http(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** WebSocket URL of /ws with an optional query string. */
  wsUrl(query = ''): string {
    return `ws://127.0.0.1:${this.port}/ws${query}`;
  }

  /** True until the process exited. */
  alive(): boolean {
    return this.proc.alive();
  }

  /** Sends `signal` to the process (by PID). */
  signal(signal: NodeJS.Signals): void {
    this.proc.signal(signal);
  }

  /** Resolves with the exit code once the process has exited. */
  exited(): Promise<number | null> {
    return this.proc.exited();
  }

  /** Resolves with the first log line matching `match`; rejects when the process exits first or after `timeoutMs`. */
  waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    return this.proc.waitForLog(what, match, timeoutMs);
  }

  /** Stops the process by PID: SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void> {
    return this.proc.stop(5000);
  }
}

/** Status of `GET /readyz` on `server`. */
export async function readyzStatus(server: ServerProcess): Promise<number> {
  return (await fetch(`${server.http}/readyz`)).status;
}

/** Starts a server on the Redis at `redisUrl` with `args` and waits until it is ready; fails fast if it exits. */
export async function startReady(redisUrl: string, args: string[]): Promise<ServerProcess> {
  return startReadyWith(['--port', '0', '--host', '127.0.0.1', '--redis-url', redisUrl, ...args], redisUrl);
}

/** Starts a server with exactly `args` and waits until `/readyz` answers 200; fails fast if it exits. */
export async function startReadyWith(args: string[], what = 'its broker'): Promise<ServerProcess> {
  const server = await ServerProcess.start(args);
  const deadline = Date.now() + 10_000;
  while ((await readyzStatus(server)) !== 200) {
    if (!server.alive()) throw new Error(`server on ${what} exited before it was ready; stderr: ${server.stderr}`);
    if (Date.now() > deadline) throw new Error(`server on ${what} not ready within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return server;
}
