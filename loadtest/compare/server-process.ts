/**
 * Starting a server process, waiting for its JSON "listening" log line, and stopping it by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as readline from 'node:readline';

/** A command to run. */
export interface Command {
  /** executable */
  cmd: string;
  /** arguments */
  args: string[];
  /** extra environment */
  env?: Record<string, string>;
}

/** A started server process. */
export interface ServerProcess {
  /** the process */
  child: ChildProcess;
  /** its PID */
  pid: number;
  /** the port it reported */
  port: number;
  /** last lines it printed (stdout and stderr), for diagnostics */
  tail: string[];
  /** first lines about shutdown, signals, errors or crashes (kept even when the tail rolls over) */
  notable: string[];
}

/** Lowest and highest port freePort picks: below Linux's ephemeral range (32768-60999). */
export const PORT_RANGE: readonly [number, number] = [20_000, 32_767];

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A free TCP port on 127.0.0.1 below the ephemeral range (checked by binding, then released).
 * Never port 0: the kernel would pick from 32768-60999, where the generator's thousands of client
 * source ports live, and a port released then reused by a server could already be some client's
 * source port.
 */
export async function freePort(): Promise<number> {
  const [lo, hi] = PORT_RANGE;
  for (let i = 0; i < 200; i++) {
    const port = lo + Math.floor(Math.random() * (hi - lo + 1));
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port in ${lo}-${hi} after 200 tries`);
}

/**
 * Spawns `command` and resolves once it printed `listeningLines` JSON lines with msg "listening"
 * and a numeric port (pino's shape; a supervisor's workers each print one). Rejects on exit or after `timeoutMs`, killing the process.
 */
export function startServer(command: Command, timeoutMs = 20_000, listeningLines = 1): Promise<ServerProcess> {
  let seen = 0;
  return new Promise((resolve, reject) => {
    const child = spawn(command.cmd, command.args, {
      env: { ...process.env, ...(command.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const notable: string[] = [];
    let done = false;
    const remember = (line: string): void => {
      if (notable.length < 10 && /shutting down|signal|fatal|uncaught|restart|exited|"level":50|"level":60/i.test(line)) notable.push(line.slice(0, 500));
      tail.push(line.slice(0, 500));
      if (tail.length > 30) tail.shift();
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      reject(new Error(`${command.cmd} ${command.args.join(' ')}: no "listening" line in ${timeoutMs} ms\n${tail.join('\n')}`));
    }, timeoutMs);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      remember(line);
      if (done || !line.includes('listening')) return;
      try {
        const rec = JSON.parse(line) as { msg?: unknown; port?: unknown };
        if (rec.msg === 'listening' && typeof rec.port === 'number' && ++seen >= listeningLines) {
          done = true;
          clearTimeout(timer);
          resolve({ child, pid: child.pid!, port: rec.port, tail, notable });
        }
      } catch {
        /* not JSON */
      }
    });
    readline.createInterface({ input: child.stderr! }).on('line', remember);
    child.once('exit', (code, signal) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`${command.cmd} ${command.args.join(' ')} exited (${code ?? signal}) before listening\n${tail.join('\n')}`));
    });
  });
}

/** Stops a process by PID: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}
