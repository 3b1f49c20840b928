import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Path of the compiled CLI entry point. */
export const CLI = join(__dirname, '..', '..', 'src', 'cli', 'main.js');

/** One parsed JSON log line of the server. */
export type LogLine = Record<string, unknown> & { msg?: string };

/** A real broadcaster process started from the compiled CLI, with its logs captured. */
export class ServerProcess {
  /** Every JSON log line seen so far. */
  readonly logs: LogLine[] = [];
  /** Raw stderr text. */
  stderr = '';
  /** The bound port, known once "listening" was logged. */
  port = 0;
  private readonly exitCode: Promise<number | null>;

  private constructor(private readonly proc: ChildProcess) {
    this.exitCode = once(proc, 'exit').then(([code]) => code as number | null);
    proc.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        // not a JSON log line
      }
    });
  }

  /** Starts `broadcaster <args>` and resolves once it logged "listening". */
  static async start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
    // One process unless the test asks for workers: the default is one worker per core with Redis.
    if (!args.includes('--workers') && env.BROADCASTER_WORKERS === undefined) args = ['--workers', '1', ...args];
    const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new ServerProcess(proc);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const listening = server.logs.find((l) => l.msg === 'listening');
      if (listening !== undefined) {
        server.port = listening.port as number;
        return server;
      }
      if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode} before listening; stderr: ${server.stderr}`);
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`server did not log "listening" within 10 s; stderr: ${server.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** The process id. */
  get pid(): number {
    return this.proc.pid!;
  }

  /** Base URL of the HTTP API. */
  get http(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** WebSocket URL of /ws with an optional query string. */
  wsUrl(query = ''): string {
    return `ws://127.0.0.1:${this.port}/ws${query}`;
  }

  /** Sends `signal` to the process (by PID). */
  signal(signal: NodeJS.Signals): void {
    this.proc.kill(signal);
  }

  /** Resolves with the exit code once the process has exited. */
  exited(): Promise<number | null> {
    return this.exitCode;
  }

  /** Stops the process by PID: SIGTERM, then SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await this.exitCode;
    clearTimeout(timer);
  }
}

/** Status of `GET /readyz` on `server`. */
export async function readyzStatus(server: ServerProcess): Promise<number> {
  return (await fetch(`${server.http}/readyz`)).status;
}

/** Starts a server on the Redis at `redisUrl` with `args` and waits until it is ready. */
export async function startReady(redisUrl: string, args: string[]): Promise<ServerProcess> {
  const server = await ServerProcess.start(['--port', '0', '--host', '127.0.0.1', '--redis-url', redisUrl, ...args]);
  const deadline = Date.now() + 10_000;
  while ((await readyzStatus(server)) !== 200) {
    if (Date.now() > deadline) throw new Error(`server on ${redisUrl} not ready within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return server;
}
