import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type Redis from 'ioredis';
import { isNoScript, LuaScript } from '../../src/broker/lua-script';

/** Records whether each run went as EVAL (text) or EVALSHA, and fails EVALSHA with the next queued error. */
class FakeConnection {
  readonly sent: string[] = [];
  readonly errors: Error[] = [];
  async eval(lua: string, keys: number, ...args: unknown[]): Promise<unknown> {
    this.sent.push(`EVAL ${lua} ${keys} ${args.join(' ')}`);
    return 'ok';
  }
  async evalsha(sha: string, keys: number, ...args: unknown[]): Promise<unknown> {
    this.sent.push(`EVALSHA ${sha} ${keys} ${args.join(' ')}`);
    const err = this.errors.shift();
    if (err !== undefined) throw err;
    return 'ok';
  }
}

describe('LuaScript', () => {
  const lua = 'return 1';
  const sha = createHash('sha1').update(lua).digest('hex');

  it('goes with its text on its first run, by its SHA1 after, and with its text again after a NOSCRIPT answer (never resent by itself)', async () => {
    const conn = new FakeConnection();
    const script = new LuaScript(lua);
    const run = (withText = false): Promise<unknown> => script.run(conn as unknown as Redis, withText, 1, ['k', 'a']);
    assert.equal(script.sha, sha);
    await run();
    await run();
    conn.errors.push(new Error('NOSCRIPT No matching script. Please use EVAL.'));
    await assert.rejects(run(), /NOSCRIPT/);
    await run();
    await run();
    conn.errors.push(new Error('ERR something else'));
    await assert.rejects(run(), /ERR something else/);
    await run();
    await run(true);
    assert.deepEqual(conn.sent, [
      `EVAL ${lua} 1 k a`,
      `EVALSHA ${sha} 1 k a`,
      `EVALSHA ${sha} 1 k a`,
      `EVAL ${lua} 1 k a`,
      `EVALSHA ${sha} 1 k a`,
      `EVALSHA ${sha} 1 k a`,
      `EVALSHA ${sha} 1 k a`,
      `EVAL ${lua} 1 k a`,
    ]);
  });

  it('isNoScript tells a NOSCRIPT answer from other errors', () => {
    assert.equal(isNoScript(new Error('NOSCRIPT No matching script. Please use EVAL.')), true);
    assert.equal(isNoScript(new Error('ERR Error running script')), false);
    assert.equal(isNoScript('NOSCRIPT'), false);
  });
});
