import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type Redis from 'ioredis';
import type { PublishResult } from '../../src/broker/broker';
import { MAX_SCRIPT_BATCH } from '../../src/broker/channel-calls';
import { LuaScript } from '../../src/broker/lua-script';
import {
  HISTORY_SCRIPT,
  PUBLISH_MANY_SCRIPT,
  PUBLISH_SCRIPT,
  SHARDED_PUBLISH_MANY_SCRIPT,
  SHARDED_PUBLISH_SCRIPT,
  withFanout,
} from '../../src/broker/redis-scripts';
import { CALLS_IN_FLIGHT_ONE_REDIS, RedisStreams } from '../../src/broker/redis-streams';
import { prefixNames } from '../../src/broker/stream-names';
import { HistoryPolicies } from '../../src/config/history-policy';
import { encodeData } from '../../src/protocol/envelope';

/** One script call the fake connection received, answered by the test. */
interface Call {
  script: 'single' | 'many';
  /** Sent as EVAL (with the script's text), not EVALSHA. */
  text: boolean;
  channel: string;
  epoch: string;
  data: Buffer[];
  answer(last: number, epoch: string): void;
  fail(err: Error): void;
}

const SCRIPTS = new Map<string, Call['script']>();
for (const [lua, script] of [
  [PUBLISH_SCRIPT, 'single'],
  [PUBLISH_MANY_SCRIPT, 'many'],
  [SHARDED_PUBLISH_SCRIPT, 'single'],
  [SHARDED_PUBLISH_MANY_SCRIPT, 'many'],
] as const) {
  SCRIPTS.set(lua, script);
  SCRIPTS.set(new LuaScript(lua).sha, script);
}

/** A stand-in for the publisher connection: records EVAL / EVALSHA calls of the publish scripts; the test answers them. */
class FakeConnection extends EventEmitter {
  readonly calls: Call[] = [];
  defineCommand(): void {}
  private record(text: boolean, luaOrSha: string, args: Array<string | number | Buffer>): Promise<[number, string]> {
    const script = SCRIPTS.get(luaOrSha);
    if (script === undefined) throw new Error('not a publish script');
    // single: stream, meta, data, size, ttl, metaTtl, channel, epoch; many: stream, meta, size, ttl, metaTtl, channel, epoch, data…
    const [channel, epoch] = (script === 'single' ? args.slice(6, 8) : args.slice(5, 7)) as [string, string];
    const data = (script === 'single' ? [args[2]] : args.slice(7)) as Buffer[];
    return new Promise((resolve, reject) => {
      this.calls.push({ script, text, channel, epoch, data, answer: (last, e) => resolve([last, e]), fail: reject });
    });
  }
  eval(lua: string, _keys: number, ...args: Array<string | number | Buffer>): Promise<[number, string]> {
    return this.record(true, lua, args);
  }
  evalsha(sha: string, _keys: number, ...args: Array<string | number | Buffer>): Promise<[number, string]> {
    return this.record(false, sha, args);
  }
}

function setup(names: 'one Redis' | 'cluster' = 'one Redis'): { conn: FakeConnection; streams: RedisStreams } {
  const conn = new FakeConnection();
  const policies = new HistoryPolicies({ historySize: 100, historyTtl: 60, historyNamespaces: 'raw.=0/0' });
  const streams = new RedisStreams(
    conn as unknown as Redis,
    names === 'one Redis' ? 'bc:' : { ...prefixNames('bc:'), fanoutCommand: 'SPUBLISH' },
    policies,
    300,
  );
  return { conn, streams };
}

const data = (n: number): Buffer => encodeData(`m${n}`);

describe('RedisStreams: script calls per channel', () => {
  it('sends the publications of one turn on an idle channel in one call, in order, at the end of the turn', async () => {
    const { conn, streams } = setup();
    const first = streams.publish('c', 'm1');
    const second = streams.publish('c', 'm2');
    assert.equal(conn.calls.length, 0, 'nothing is sent before the turn ends');
    await nextTurn();
    assert.equal(conn.calls.length, 1);
    const call = conn.calls[0]!;
    assert.equal(call.script, 'many');
    assert.equal(call.channel, 'bc:c');
    assert.deepEqual(call.data, [data(1), data(2)]);
    call.answer(12, 'E1');
    assert.deepEqual((await first).position, { offset: 11, epoch: 'E1' });
    assert.deepEqual((await second).position, { offset: 12, epoch: 'E1' });
  });

  it('a lone publication uses the single script; a script goes with its text once, then by its SHA1', async () => {
    const { conn, streams } = setup();
    const p = streams.publish('c', 'm1');
    await nextTurn();
    assert.equal(conn.calls.length, 1);
    assert.equal(conn.calls[0]!.script, 'single');
    assert.equal(conn.calls[0]!.text, true);
    conn.calls[0]!.answer(1, 'E1');
    assert.deepEqual((await p).position, { offset: 1, epoch: 'E1' });
    void streams.publish('c', 'm2');
    await nextTurn();
    assert.equal(conn.calls[1]!.text, false);
  });

  it(`on one Redis ${CALLS_IN_FLIGHT_ONE_REDIS} calls per channel may be unanswered; what comes meanwhile waits for an answer, then goes together`, async () => {
    assert.equal(CALLS_IN_FLIGHT_ONE_REDIS, 2);
    const { conn, streams } = setup();
    const p1 = streams.publish('c', 'm1');
    await nextTurn();
    const p2 = streams.publish('c', 'm2');
    await nextTurn();
    assert.equal(conn.calls.length, 2, 'a second call while the first is unanswered');
    const later = [streams.publish('c', 'm3')];
    await nextTurn();
    later.push(streams.publish('c', 'm4'));
    await nextTurn();
    assert.equal(conn.calls.length, 2, 'no third call while two are unanswered');
    conn.calls[0]!.answer(1, 'E1');
    assert.deepEqual((await p1).position, { offset: 1, epoch: 'E1' });
    assert.equal(conn.calls.length, 3, 'the answer sends what waited');
    assert.deepEqual(conn.calls[2]!.data, [data(3), data(4)]);
    conn.calls[1]!.answer(2, 'E1');
    conn.calls[2]!.answer(4, 'E1');
    assert.deepEqual((await p2).position, { offset: 2, epoch: 'E1' });
    assert.deepEqual(
      (await Promise.all(later)).map((r) => r.position),
      [
        { offset: 3, epoch: 'E1' },
        { offset: 4, epoch: 'E1' },
      ],
    );
    // idle again: the next publication is sent at the end of its turn
    const p5 = streams.publish('c', 'm5');
    await nextTurn();
    assert.equal(conn.calls.length, 4);
    conn.calls[3]!.answer(5, 'E1');
    assert.deepEqual((await p5).position, { offset: 5, epoch: 'E1' });
  });

  it('on a Redis Cluster one call per channel is unanswered (a redirected call is sent again)', async () => {
    const { conn, streams } = setup('cluster');
    const p1 = streams.publish('c', 'm1');
    await nextTurn();
    const p2 = streams.publish('c', 'm2');
    await nextTurn();
    assert.equal(conn.calls.length, 1);
    conn.calls[0]!.answer(1, 'E1');
    await p1;
    assert.equal(conn.calls.length, 2);
    assert.deepEqual(conn.calls[1]!.data, [data(2)]);
    conn.calls[1]!.answer(2, 'E1');
    assert.deepEqual((await p2).position, { offset: 2, epoch: 'E1' });
  });

  it('channels do not wait for each other', async () => {
    const { conn, streams } = setup();
    void streams.publish('a', 'm1');
    await nextTurn();
    void streams.publish('b', 'm2');
    await nextTurn();
    assert.deepEqual(
      conn.calls.map((c) => c.channel),
      ['bc:a', 'bc:b'],
    );
  });

  it('a failed call fails only its own publications', async () => {
    const { conn, streams } = setup();
    const p1 = streams.publish('c', 'm1');
    await nextTurn();
    const p2 = streams.publish('c', 'm2');
    await nextTurn();
    conn.calls[0]!.fail(new Error('boom'));
    await assert.rejects(p1, /boom/);
    assert.deepEqual(conn.calls[1]!.data, [data(2)]);
    conn.calls[1]!.answer(5, 'E1');
    assert.deepEqual((await p2).position, { offset: 5, epoch: 'E1' });
  });

  it('a call carries at most MAX_SCRIPT_BATCH publications, but a batch publish is never split', async () => {
    const { conn, streams } = setup('cluster');
    void streams.publish('c', 'm0');
    await nextTurn();
    const singles: Array<Promise<PublishResult>> = [];
    for (let i = 1; i <= MAX_SCRIPT_BATCH + 10; i++) singles.push(streams.publish('c', `m${i}`));
    const batch = Array.from({ length: MAX_SCRIPT_BATCH + 5 }, (_, i) => `b${i}`);
    const many = streams.publishMany('c', batch);
    conn.calls[0]!.answer(1, 'E1');
    await nextTurn();
    assert.equal(conn.calls[1]!.data.length, MAX_SCRIPT_BATCH);
    conn.calls[1]!.answer(1 + MAX_SCRIPT_BATCH, 'E1');
    await nextTurn();
    assert.equal(conn.calls[2]!.data.length, 10, 'the rest of the singles; the batch does not fit beside them');
    conn.calls[2]!.answer(11 + MAX_SCRIPT_BATCH, 'E1');
    await nextTurn();
    assert.equal(conn.calls[3]!.data.length, MAX_SCRIPT_BATCH + 5, 'the batch, whole, in one call');
    assert.deepEqual(conn.calls[3]!.data[0], encodeData('b0'));
    conn.calls[3]!.answer(16 + 2 * MAX_SCRIPT_BATCH, 'E1');
    assert.deepEqual((await many).at(-1)?.position, { offset: 16 + 2 * MAX_SCRIPT_BATCH, epoch: 'E1' });
    const positions = await Promise.all(singles);
    assert.deepEqual(
      positions.map((p) => p.position?.offset),
      Array.from({ length: MAX_SCRIPT_BATCH + 10 }, (_, i) => i + 2),
    );
  });

  it('a new epoch candidate replaces the one a channel took; an unused one is kept', async () => {
    const { conn, streams } = setup();
    void streams.publish('a', 'm1');
    await nextTurn();
    const candidate = conn.calls[0]!.epoch;
    assert.match(candidate, /^[A-Za-z0-9_-]{12}$/);
    conn.calls[0]!.answer(1, 'OLD-EPOCH');
    await nextTurn();
    void streams.publish('a', 'm2');
    await nextTurn();
    assert.equal(conn.calls[1]!.epoch, candidate, 'not taken: the same candidate is offered again');
    conn.calls[1]!.answer(1, candidate);
    await nextTurn();
    void streams.publish('b', 'm3');
    await nextTurn();
    assert.notEqual(conn.calls[2]!.epoch, candidate, 'taken by a channel: never offered again');
  });

  it('a dropped connection fails every unanswered call, then sends what waited', async () => {
    const { conn, streams } = setup();
    const p1 = streams.publish('c', 'm1');
    await nextTurn();
    const p2 = streams.publish('c', 'm2');
    await nextTurn();
    const p3 = streams.publish('c', 'm3');
    conn.emit('close');
    await assert.rejects(p1, /may or may not have been made/);
    await assert.rejects(p2, /may or may not have been made/);
    await nextTurn();
    assert.equal(conn.calls.length, 3);
    assert.deepEqual(conn.calls[2]!.data, [data(3)]);
    conn.calls[2]!.answer(3, 'E1');
    assert.deepEqual((await p3).position, { offset: 3, epoch: 'E1' });
  });
});

describe('scripts on a Redis Cluster', () => {
  it('withFanout turns every PUBLISH of a script into SPUBLISH, and refuses a script without one', () => {
    for (const script of [PUBLISH_SCRIPT, PUBLISH_MANY_SCRIPT]) {
      const sharded = withFanout(script, 'SPUBLISH');
      assert.ok(sharded.includes("redis.call('SPUBLISH', "));
      assert.ok(!sharded.includes("redis.call('PUBLISH', "));
      assert.equal(withFanout(script, 'PUBLISH'), script);
    }
    assert.equal(SHARDED_PUBLISH_SCRIPT, withFanout(PUBLISH_SCRIPT, 'SPUBLISH'));
    assert.equal(SHARDED_PUBLISH_MANY_SCRIPT, withFanout(PUBLISH_MANY_SCRIPT, 'SPUBLISH'));
    assert.throws(() => withFanout(HISTORY_SCRIPT, 'SPUBLISH'), /does not fan out with PUBLISH/);
  });
});
