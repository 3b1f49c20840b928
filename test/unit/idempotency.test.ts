import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type Redis from 'ioredis';
import { idempotentPublishScript } from '../../src/broker/idempotent-scripts';
import { LuaScript } from '../../src/broker/lua-script';
import { MemoryIdempotency } from '../../src/broker/memory-idempotency';
import { PUBLISH_MANY_SCRIPT, PUBLISH_SCRIPT } from '../../src/broker/redis-scripts';
import { RedisStreams } from '../../src/broker/redis-streams';
import { HistoryPolicies } from '../../src/config/history-policy';
import { encodeData } from '../../src/protocol/envelope';
import { idempotencyKeyProblem, MAX_IDEMPOTENCY_KEY_LENGTH } from '../../src/protocol/idempotency-key';

describe('idempotency key syntax', () => {
  it('takes 1-128 characters from A-Z a-z 0-9 _ . : @ = + / -', () => {
    for (const key of ['a', 'order-42', '0b1f7c2e-3d4a-4e5f-8a9b-0c1d2e3f4a5b', 'aGVsbG8+/w==', 'x'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH), 'user@host:1.2_3'])
      assert.equal(idempotencyKeyProblem(key), null, key);
    assert.match(idempotencyKeyProblem('')!, /must not be empty/);
    assert.match(idempotencyKeyProblem('x'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH + 1))!, /longer than 128/);
    for (const key of ['a b', 'ké', '{tag}', 'a;b', 'a\nb']) assert.match(idempotencyKeyProblem(key)!, /may only contain/, key);
    assert.match(idempotencyKeyProblem(42)!, /must be a string/);
  });
});

describe('MemoryIdempotency', () => {
  it('remembers a result per channel and key for the ttl; the sweep drops what expired', () => {
    let now = 1_000_000;
    const memory = new MemoryIdempotency(5, () => now);
    try {
      memory.remember('a', 'k', { offset: 3, epoch: 'E' });
      memory.remember('b', 'k', null);
      assert.deepEqual(memory.lookup('a', 'k')?.position, { offset: 3, epoch: 'E' });
      assert.equal(memory.lookup('b', 'k')?.position, null, 'remembered without a position');
      assert.equal(memory.lookup('a', 'other'), undefined);
      assert.equal(memory.lookup('c', 'k'), undefined);
      now += 4_999;
      assert.ok(memory.lookup('a', 'k') !== undefined, 'still within the ttl');
      now += 1;
      assert.equal(memory.lookup('a', 'k'), undefined, 'expired at the ttl');
      memory.remember('a', 'k', { offset: 9, epoch: 'E' });
      assert.equal(memory.lookup('a', 'k')?.position?.offset, 9, 'a key may be used again once it expired');
      memory.sweep();
      assert.equal(memory.lookup('b', 'k'), undefined);
    } finally {
      memory.close();
    }
  });
});

/** One script call the fake connection received; the test answers it. */
interface Call {
  script: 'single' | 'many' | 'once';
  args: Array<string | number | Buffer>;
  answer(reply: unknown): void;
}

const SCRIPTS = new Map<string, Call['script']>();
for (const [lua, script] of [
  [PUBLISH_SCRIPT, 'single'],
  [PUBLISH_MANY_SCRIPT, 'many'],
  [idempotentPublishScript('PUBLISH'), 'once'],
] as const) {
  SCRIPTS.set(lua, script);
  SCRIPTS.set(new LuaScript(lua).sha, script);
}

/** A stand-in for the publisher connection: records the publish scripts' EVAL / EVALSHA calls (args: the number of keys, keys, arguments). */
class FakeConnection extends EventEmitter {
  readonly calls: Call[] = [];
  defineCommand(): void {}
  private record(luaOrSha: string, args: Array<string | number | Buffer>): Promise<unknown> {
    const script = SCRIPTS.get(luaOrSha);
    if (script === undefined) throw new Error('not a publish script');
    return new Promise((resolve) => this.calls.push({ script, args, answer: resolve }));
  }
  eval(lua: string, ...args: Array<string | number | Buffer>): Promise<unknown> {
    return this.record(lua, args);
  }
  evalsha(sha: string, ...args: Array<string | number | Buffer>): Promise<unknown> {
    return this.record(sha, args);
  }
}

describe('RedisStreams with idempotency keys', () => {
  const setup = () => {
    const conn = new FakeConnection();
    const streams = new RedisStreams(
      conn as unknown as Redis,
      'bc:',
      new HistoryPolicies({ historySize: 100, historyTtl: 60, historyNamespaces: '' }),
      300,
      120,
    );
    return { conn, streams };
  };

  it('keyed publications go in one call of the idempotent script with each distinct key once; keyless ones never join it', async () => {
    const { conn, streams } = setup();
    const plain = streams.publish('c', 'p1');
    const keyed = [streams.publish('c', 'k1', { idempotencyKey: 'x' }), streams.publish('c', 'k2', { idempotencyKey: 'y' })];
    const many = streams.publishMany('c', ['k3', 'p2'], [{ idempotencyKey: 'x' }, undefined]);
    const later = streams.publish('c', 'p3');
    await nextTurn();
    assert.deepEqual(
      conn.calls.map((c) => c.script),
      ['single', 'once'],
      'the first keyless one alone (the next entry has a key), then the keyed ones in the second call unanswered',
    );
    conn.calls[0]!.answer([1, 'E']);
    assert.deepEqual(await plain, { position: { offset: 1, epoch: 'E' }, repeated: false });
    const once = conn.calls[1]!;
    assert.equal(once.script, 'once');
    const [numberOfKeys, ...rest] = once.args;
    assert.equal(numberOfKeys, 4, 'stream, meta and two distinct keys');
    assert.deepEqual(rest.slice(0, 4), ['bc:h:c', 'bc:m:c', 'bc:i:c/x', 'bc:i:c/y']);
    assert.deepEqual(rest.slice(4, 10), [100, 60, 300, 'bc:c', rest[8], 120], 'size, ttl, meta ttl, channel, epoch candidate, idempotency ttl');
    assert.deepEqual(
      rest.slice(10),
      [1, encodeData('k1'), 2, encodeData('k2'), 1, encodeData('k3'), 0, encodeData('p2')],
      'key index (from the third key) and data, in order',
    );
    once.answer(['E', 2, 3, '2:E', 4]);
    assert.deepEqual(await Promise.all(keyed), [
      { position: { offset: 2, epoch: 'E' }, repeated: false },
      { position: { offset: 3, epoch: 'E' }, repeated: false },
    ]);
    assert.deepEqual(await many, [
      { position: { offset: 2, epoch: 'E' }, repeated: true },
      { position: { offset: 4, epoch: 'E' }, repeated: false },
    ]);
    await nextTurn();
    assert.equal(conn.calls[2]!.script, 'single', 'the keyless one after them goes in a plain call again');
    conn.calls[2]!.answer([5, 'E']);
    assert.deepEqual((await later).position, { offset: 5, epoch: 'E' });
  });

  it('a stored result without a position (published on a channel without history) answers a null position', async () => {
    const { conn, streams } = setup();
    const p = streams.publish('c', 'a', { idempotencyKey: 'k' });
    await nextTurn();
    conn.calls[0]!.answer(['E', '']);
    assert.deepEqual(await p, { position: null, repeated: true });
  });
});
