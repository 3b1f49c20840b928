/**
 * Child processes of tests, benchmarks and scripts: started with their output captured, a
 * "listening" JSON log line awaited (the port the process actually bound), failing fast when the
 * child exits, and stopped by PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as readline from 'node:readline';

/** Children still running; SIGKILLed when this process exits (a test runner's process.exit included). */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Registers `child` so it does not outlive this process (a killed test must not leave servers behind). */
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) {
        try {
          if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** A command to run. */
export interface Command {
  /** Executable. */
  cmd: string;
  /** Arguments. */
  args: string[];
  /** Extra environment. */
  env?: Record<string, string | undefined>;
}

/** One parsed JSON log line (pino's shape). */
export type LogLine = Record<string, unknown> & { msg?: string };

/** How to start a process. */
export interface StartOptions {
  /** Milliseconds to wait for the listening lines (default 20 s); the process is killed after that. */
  timeoutMs?: number;
  /** "listening" lines to wait for: a supervisor's workers each print one (default 1; 0: do not wait). */
  listeningLines?: number;
  /** Keep every JSON log line in `logs` (default true; long benchmark runs turn it off). */
  keepLogs?: boolean;
}

/** A running child process with its output. */
export class RunningProcess {
  /** Every JSON log line seen so far (when kept). */
  readonly logs: LogLine[] = [];
  /** Raw stderr text. */
  stderr = '';
  /** Last lines printed (stdout and stderr), for diagnostics. */
  readonly tail: string[] = [];
  /** First lines about shutdown, signals, errors or crashes (kept when the tail rolls over). */
  readonly notable: string[] = [];
  /** The port of the first "listening" line, or 0. */
  port = 0;
  private readonly exitCode: Promise<number | null>;
  private readonly lineWatchers = new Set<(line: LogLine) => void>();
  private readonly lineCounters: Array<{ pattern: RegExp; count: number }> = [];

  constructor(
    /** The child process. */
    readonly child: ChildProcess,
    private readonly keepLogs = true,
  ) {
    this.exitCode = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    track(child);
    const { stdout, stderr } = child;
    if (stdout === null || stderr === null) throw new Error('RunningProcess needs stdio pipes for stdout and stderr');
    readline.createInterface({ input: stdout }).on('line', (line) => this.onLine(line));
    readline.createInterface({ input: stderr }).on('line', (line) => {
      this.stderr += `${line}\n`;
      this.remember(line);
    });
  }

  private remember(line: string): void {
    for (const c of this.lineCounters) if (c.pattern.test(line)) c.count++;
    if (this.notable.length < 10 && /shutting down|signal|fatal|uncaught|restart|exited|"level":50|"level":60/i.test(line))
      this.notable.push(line.slice(0, 500));
    this.tail.push(line.slice(0, 500));
    if (this.tail.length > 30) this.tail.shift();
  }

  private onLine(line: string): void {
    this.remember(line);
    if (!line.startsWith('{')) return;
    let parsed: LogLine;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      return;
    }
    if (this.keepLogs) this.logs.push(parsed);
    if (this.port === 0 && parsed.msg === 'listening' && typeof parsed.port === 'number') this.port = parsed.port;
    for (const watch of this.lineWatchers) watch(parsed);
  }

  /** Counts the output lines (stdout and stderr, JSON or not) matching `pattern` from now on; returns the reader of the count. */
  countLines(pattern: RegExp): () => number {
    const counter = { pattern, count: 0 };
    this.lineCounters.push(counter);
    return () => counter.count;
  }

  /** The process id. */
  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error('the process did not start (no pid)');
    return pid;
  }

  /** True until the process exited. */
  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the exit code once the process has exited. */
  exited(): Promise<number | null> {
    return this.exitCode;
  }

  /** Sends `signal` to the process (by PID). */
  signal(signal: NodeJS.Signals): void {
    if (this.alive()) this.child.kill(signal);
  }

  /**
   * Resolves with the `count`-th log line (from now on, or already kept) matching `match`;
   * rejects as soon as the process exits, or after `timeoutMs`.
   */
  waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs = 10_000, count = 1): Promise<LogLine> {
    let seen = 0;
    for (const line of this.logs) if (match(line) && ++seen === count) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      const finish = (err: Error | null, line?: LogLine): void => {
        clearTimeout(timer);
        this.lineWatchers.delete(watch);
        this.child.off('exit', onExit);
        if (err !== null) reject(err);
        else resolve(line as LogLine);
      };
      const watch = (line: LogLine): void => {
        if (match(line) && ++seen === count) finish(null, line);
      };
      const onExit = (code: number | null, signal: string | null): void => {
        finish(new Error(`${this.describe()} exited (${code ?? signal}) while waiting for ${what}\n${this.tail.join('\n')}`));
      };
      const timer = setTimeout(() => finish(new Error(`${this.describe()}: no ${what} within ${timeoutMs} ms\n${this.tail.join('\n')}`)), timeoutMs);
      if (!this.alive()) return onExit(this.child.exitCode, this.child.signalCode);
      this.lineWatchers.add(watch);
      this.child.once('exit', onExit);
    });
  }

  /** Stops the process by PID: SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs = 5000): Promise<void> {
    return stopProcess(this.child, graceMs);
  }

  private describe(): string {
    return [this.child.spawnfile, ...this.child.spawnargs.slice(1)].join(' ').slice(0, 300);
  }
}

/**
 * Spawns `command` and resolves once it printed `listeningLines` JSON lines with msg
 * "listening" and a numeric port; rejects (killing it) when it exits first or after the timeout.
 */
export async function startProcess(command: Command, options: StartOptions = {}): Promise<RunningProcess> {
  const { timeoutMs = 20_000, listeningLines = 1, keepLogs = true } = options;
  const child = spawn(command.cmd, command.args, { env: { ...process.env, ...(command.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new RunningProcess(child, keepLogs);
  if (listeningLines === 0) return proc;
  try {
    await proc.waitForLog('"listening" log line', (l) => l.msg === 'listening' && typeof l.port === 'number', timeoutMs, listeningLines);
  } catch (err) {
    await proc.stop(0);
    throw err;
  }
  return proc;
}

/** Stops a process by PID: SIGTERM, then SIGKILL after `graceMs` (0: SIGKILL at once). */
export async function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(child.pid, graceMs === 0 ? 'SIGKILL' : 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}
