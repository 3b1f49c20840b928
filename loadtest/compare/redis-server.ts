/**
 * A private redis-server for one comparison run, on a free port, without persistence. It never
 * touches the shared instance on 6379.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as readline from 'node:readline';
import { freePort, stopProcess } from './server-process.js';

/** A running private Redis. */
export interface PrivateRedis {
  /** redis://127.0.0.1:PORT */
  url: string;
  /** its PID (its CPU time is reported beside the server's) */
  pid: number;
  /** Stops it by PID. */
  stop(): Promise<void>;
  /** Whether it is still running. */
  alive(): boolean;
  /** its last log lines */
  tail: string[];
}

/** Starts `redis-server --port P --save "" --appendonly no` and waits until it accepts connections. */
export async function startRedis(bin = 'redis-server'): Promise<PrivateRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start in 10 s')), 10_000);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      if (line.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.resume();
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}`));
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () => stopProcess(child),
    alive: () => child.exitCode === null && child.signalCode === null,
    tail,
  };
}
