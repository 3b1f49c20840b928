import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** Whether `err` is Redis saying it does not hold a script (after SCRIPT FLUSH, a restart or a failover). */
export function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

/**
 * A Lua script run by its SHA1 (EVALSHA), or with its text (EVAL) on its first run, after a
 * NOSCRIPT answer and when the caller asks. Unlike ioredis's `defineCommand`, a NOSCRIPT answer
 * is never resent by itself: with more than one call unanswered, the caller decides whether
 * sending it again would overtake a call sent after it (`ChannelCalls`).
 */
export class LuaScript {
  /** The SHA1 Redis knows the script by. */
  readonly sha: string;
  /** No NOSCRIPT answer since the text was last sent. */
  private sent = false;

  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  /** Runs the script on the master of its keys' slot: `keys` names first in `args`, then the arguments. */
  run(conn: Redis | Cluster, withText: boolean, keys: number, args: ReadonlyArray<string | number | Buffer>): Promise<unknown> {
    if (withText || !this.sent) {
      this.sent = true;
      return conn.eval(this.lua, keys, ...args);
    }
    return conn.evalsha(this.sha, keys, ...args).catch((err: unknown) => {
      if (isNoScript(err)) this.sent = false;
      throw err;
    });
  }
}
