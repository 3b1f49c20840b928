import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ShardedSubscriptionSet } from '../../src/broker/cluster/sharded-subscription-set';
import { SUBSCRIBE_BATCH, type SubscriptionBus, type SubscriptionCommand, SubscriptionSet } from '../../src/broker/subscription-set';
import { createLogger } from '../../src/log/logger';

/** One command the fake bus received, answered when the test says so. */
interface Sent {
  command: SubscriptionCommand;
  channels: string[];
  confirm: () => void;
  fail: (err: Error) => void;
}

/** A subscriber connection the test drives: it records every command and answers none by itself. */
class FakeBus implements SubscriptionBus {
  readonly label = 'fake';
  up = true;
  sent: Sent[] = [];

  reachable(): boolean {
    return this.up;
  }

  live(): boolean {
    return this.up;
  }

  send(command: SubscriptionCommand, channels: readonly string[]): Promise<unknown> {
    return new Promise((resolve, reject) => this.sent.push({ command, channels: [...channels], confirm: () => resolve(channels.length), fail: reject }));
  }

  /** The commands sent so far as `subscribe a b`, and forgets them. */
  take(): string[] {
    const lines = this.sent.map((s) => [s.command, ...s.channels].join(' '));
    this.sent = [];
    return lines;
  }
}

const logger = createLogger('silent');
/** The end of the current event-loop turn, when the set sends what the turn changed. */
const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));
/** True once `promise` has settled, checked after pending callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await endOfTurn();
  return done;
}

describe('SubscriptionSet', () => {
  it('sends what one turn changed in one command each; a subscribe undone in the same turn sends no SUBSCRIBE', async () => {
    const bus = new FakeBus();
    const set = new SubscriptionSet(bus, logger);
    void set.subscribe('a');
    void set.subscribe('b');
    set.unsubscribe('a');
    void set.subscribe('c');
    void set.subscribe('b');
    assert.deepEqual(bus.take(), [], 'nothing before the end of the turn');
    await endOfTurn();
    // (the UNSUBSCRIBE of a channel never subscribed is harmless: the sharded set leaves it out)
    assert.deepEqual(bus.take(), ['subscribe b c', 'unsubscribe a']);
    assert.deepEqual([...set.channels()], ['b', 'c']);
    // unsubscribe and subscribe again in one turn: the channel stays wanted, no UNSUBSCRIBE goes out
    set.unsubscribe('b');
    void set.subscribe('b');
    set.unsubscribe('c');
    await endOfTurn();
    assert.deepEqual(bus.take(), ['subscribe b', 'unsubscribe c']);
  });

  it('subscribe resolves once the bus confirmed; then the channel is received at once until unsubscribed', async () => {
    const bus = new FakeBus();
    const set = new SubscriptionSet(bus, logger);
    const first = set.subscribe('a');
    const second = set.subscribe('a');
    await endOfTurn();
    assert.equal(bus.sent.length, 1);
    assert.equal(await settled(first), false, 'waits for the confirmation');
    assert.equal(set.receivesAtOnce('a'), false);
    bus.sent[0]!.confirm();
    assert.equal(await settled(first), true);
    assert.equal(await settled(second), true, 'every waiter of the channel is released');
    assert.equal(set.receivesAtOnce('a'), true);
    assert.equal(await settled(set.subscribe('a')), true, 'a confirmed channel resolves at once');
    bus.take();
    set.unsubscribe('a');
    assert.equal(set.receivesAtOnce('a'), false);
    await endOfTurn();
    assert.deepEqual(bus.take(), ['unsubscribe a']);
  });

  it('a confirmation that arrives after the channel was unsubscribed does not confirm it', async () => {
    const bus = new FakeBus();
    const set = new SubscriptionSet(bus, logger);
    const waiting = set.subscribe('a');
    await endOfTurn();
    const [sent] = bus.sent;
    set.unsubscribe('a');
    sent!.confirm();
    assert.equal(await settled(waiting), true);
    assert.equal(set.receivesAtOnce('a'), false);
  });

  it('waiters are released, unconfirmed, when the connection drops; a failed command releases its own', async () => {
    const bus = new FakeBus();
    const set = new SubscriptionSet(bus, logger);
    const a = set.subscribe('a');
    await endOfTurn();
    const b = set.subscribe('b');
    await endOfTurn();
    bus.sent[1]!.fail(new Error('ERR refused'));
    assert.equal(await settled(b), true, 'the failed batch is released');
    assert.equal(set.receivesAtOnce('b'), false);
    assert.equal(await settled(a), false);
    bus.up = false;
    set.settleAll();
    assert.equal(await settled(a), true);
    assert.equal(set.receivesAtOnce('a'), false);
    assert.equal(await settled(set.subscribe('c')), true, 'while the bus is down subscribe does not wait');
  });

  it('while the bus is unreachable nothing is sent; after the reconnect every wanted channel goes in one command', async () => {
    const bus = new FakeBus();
    const set = new SubscriptionSet(bus, logger);
    void set.subscribe('a');
    await endOfTurn();
    bus.sent[0]!.confirm();
    bus.take();
    bus.up = false;
    set.settleAll();
    void set.subscribe('b');
    set.unsubscribe('a');
    void set.subscribe('c');
    await endOfTurn();
    assert.deepEqual(bus.take(), []);
    bus.up = true;
    set.resubscribeAll();
    assert.deepEqual(bus.take(), ['subscribe b c']);
    await endOfTurn();
    assert.deepEqual(bus.take(), [], 'the changes of the turn went with the resubscribe');
  });

  it(`sends many channels in batches of ${SUBSCRIBE_BATCH}`, async () => {
    const bus = new FakeBus();
    const set = new SubscriptionSet(bus, logger);
    const names = Array.from({ length: 2 * SUBSCRIBE_BATCH + 500 }, (_, i) => `ch:${i}`);
    const all = Promise.all(names.map((name) => set.subscribe(name)));
    await endOfTurn();
    assert.deepEqual(
      bus.sent.map((s) => s.channels.length),
      [SUBSCRIBE_BATCH, SUBSCRIBE_BATCH, 500],
    );
    assert.deepEqual(
      bus.sent.flatMap((s) => s.channels),
      names,
      'in the order they were wanted',
    );
    for (const s of bus.sent) s.confirm();
    await all;
    bus.take();
    set.resubscribeAll();
    assert.deepEqual(
      bus.sent.map((s) => s.channels.length),
      [SUBSCRIBE_BATCH, SUBSCRIBE_BATCH, 500],
    );
  });
});

describe('ShardedSubscriptionSet', () => {
  /** Slot = the number after the colon, so the test chooses which channels share one. */
  const slotOf = (channel: string) => Number(channel.split(':')[1]);

  it('sends one command per slot, with names, in batches within a slot', async () => {
    const bus = new FakeBus();
    const set = new ShardedSubscriptionSet(bus, logger, slotOf);
    for (const name of ['a:1', 'b:2', 'c:1', 'd:3', 'e:2']) void set.subscribe(name);
    await endOfTurn();
    assert.deepEqual(bus.take(), ['subscribe a:1 c:1', 'subscribe b:2 e:2', 'subscribe d:3']);
    const many = Array.from({ length: SUBSCRIBE_BATCH + 1 }, (_, i) => `m${i}:7`);
    for (const name of many) void set.subscribe(name);
    await endOfTurn();
    assert.deepEqual(
      bus.sent.map((s) => s.channels.length),
      [SUBSCRIBE_BATCH, 1],
    );
  });

  it('sends again only what ioredis does not hold: a resubscribe confirms held channels without a command', async () => {
    const bus = new FakeBus();
    const set = new ShardedSubscriptionSet(bus, logger, slotOf);
    void set.subscribe('a:1');
    void set.subscribe('b:2');
    await endOfTurn();
    const [a, b] = bus.sent;
    a!.confirm();
    b!.fail(new Error('Connection is closed.'));
    await endOfTurn();
    bus.take();
    bus.up = false;
    set.settleAll();
    assert.equal(set.receivesAtOnce('a:1'), false);
    bus.up = true;
    set.resubscribeAll();
    assert.deepEqual(bus.take(), ['subscribe b:2'], 'a:1 is held by ioredis, b:2 failed and is sent again');
    assert.equal(set.receivesAtOnce('a:1'), true, 'the held channel is confirmed at once');
  });

  it('unsubscribes only held channels; a channel unsubscribed is sent again when wanted again', async () => {
    const bus = new FakeBus();
    const set = new ShardedSubscriptionSet(bus, logger, slotOf);
    void set.subscribe('a:1');
    await endOfTurn();
    bus.sent[0]!.confirm();
    bus.take();
    set.unsubscribe('a:1');
    await endOfTurn();
    assert.deepEqual(bus.take(), ['unsubscribe a:1']);
    void set.subscribe('a:1');
    await endOfTurn();
    assert.deepEqual(bus.take(), ['subscribe a:1']);
    // wanted and dropped before any command went out: neither SSUBSCRIBE nor SUNSUBSCRIBE
    void set.subscribe('z:9');
    set.unsubscribe('z:9');
    await endOfTurn();
    assert.deepEqual(bus.take(), []);
  });
});
