import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { PublishResult } from '../../src/broker/broker';
import { ChannelCalls, MAX_SCRIPT_BATCH, MAX_SCRIPT_BATCH_BYTES, SCRIPT_LOST_MESSAGE, type Waiting } from '../../src/broker/channel-calls';

/** One call ChannelCalls sent, answered by the test. */
interface SentCall {
  channel: string;
  names: string[];
  withText: boolean;
  /** Answers with offsets first, first + 1, … for the call's publications. */
  answer(first: number): void;
  fail(err: Error): void;
}

const noScript = (): Error => new Error('NOSCRIPT No matching script. Please use EVAL.');

function setup(inFlight = 2): { calls: SentCall[]; channelCalls: ChannelCalls; publish: (channel: string, ...names: string[]) => Promise<PublishResult[]> } {
  const calls: SentCall[] = [];
  const channelCalls = new ChannelCalls(
    (channel: string, _batch: readonly Waiting[], elements: Buffer[], withText: boolean) =>
      new Promise<PublishResult[]>((resolve, reject) => {
        calls.push({
          channel,
          names: elements.map((e) => e.toString()),
          withText,
          answer: (first) => resolve(elements.map((_, i) => ({ position: { offset: first + i, epoch: 'E' }, repeated: false }))),
          fail: reject,
        });
      }),
    inFlight,
  );
  const publish = (channel: string, ...names: string[]): Promise<PublishResult[]> =>
    channelCalls.enqueue(
      channel,
      names.map((n) => Buffer.from(n)),
      undefined,
    );
  return { calls, channelCalls, publish };
}

const offsets = (results: PublishResult[]): Array<number | undefined> => results.map((r) => r.position?.offset);

/** Records the order in which publishers were answered. */
function watch(order: string[], name: string, p: Promise<PublishResult[]>): Promise<PublishResult[]> {
  p.then(
    () => order.push(`${name} ok`),
    () => order.push(`${name} failed`),
  );
  return p;
}

/** Two calls of channel c unanswered: `a` then `b`, their publishers watched in `order`. */
async function twoUnanswered(): Promise<ReturnType<typeof setup> & { order: string[]; a: Promise<PublishResult[]>; b: Promise<PublishResult[]> }> {
  const s = setup();
  const order: string[] = [];
  const a = watch(order, 'a', s.publish('c', 'a'));
  await nextTurn();
  const b = watch(order, 'b', s.publish('c', 'b'));
  await nextTurn();
  return { ...s, order, a, b };
}

describe('ChannelCalls: ordered script calls per channel', () => {
  it('answers publishers in the order their calls were sent, even when a later call is answered first', async () => {
    const { calls, order, a, b } = await twoUnanswered();
    calls[1]!.answer(2);
    await nextTurn();
    assert.deepEqual(order, [], 'b waits for a');
    calls[0]!.answer(1);
    assert.deepEqual(offsets(await a), [1]);
    assert.deepEqual(offsets(await b), [2]);
    assert.deepEqual(order, ['a ok', 'b ok']);
  });

  it('a NOSCRIPT call alone is sent again with the script text, and its publishers get that answer', async () => {
    const { calls, publish } = setup();
    const a = publish('c', 'a1', 'a2');
    await nextTurn();
    assert.equal(calls[0]!.withText, false);
    calls[0]!.fail(noScript());
    await nextTurn();
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[1]!.names, ['a1', 'a2']);
    assert.equal(calls[1]!.withText, true);
    calls[1]!.answer(7);
    assert.deepEqual(offsets(await a), [7, 8]);
    // the text went once: the next call goes by SHA1 again
    void publish('c', 'n');
    await nextTurn();
    assert.equal(calls[2]!.withText, false);
  });

  it('two NOSCRIPT calls wait for each other and go again in their order, the first with the text', async () => {
    const { calls, publish, a, b } = await twoUnanswered();
    const waiting = publish('c', 'w');
    calls[0]!.fail(noScript());
    await nextTurn();
    assert.equal(calls.length, 2, 'nothing is sent again while a later call is unanswered: it may get through');
    calls[1]!.fail(noScript());
    await nextTurn();
    assert.equal(calls.length, 3);
    assert.deepEqual(calls[2]!.names, ['a', 'b', 'w'], 'in their order, before what waited');
    assert.equal(calls[2]!.withText, true);
    calls[2]!.answer(1);
    assert.deepEqual(offsets(await a), [1]);
    assert.deepEqual(offsets(await b), [2]);
    assert.deepEqual(offsets(await waiting), [3]);
  });

  it('a NOSCRIPT call fails when a call sent after it got through (sending it again would overtake), and nothing else fails', async () => {
    const { calls, publish, order, a, b } = await twoUnanswered();
    const w = publish('c', 'w');
    calls[0]!.fail(noScript());
    calls[1]!.answer(5);
    await assert.rejects(a, (err: Error) => err.message === SCRIPT_LOST_MESSAGE);
    assert.match(SCRIPT_LOST_MESSAGE, /^Redis lost the publish script \(SCRIPT FLUSH, a restart or a failover\).*; publish again$/);
    assert.deepEqual(offsets(await b), [5]);
    assert.deepEqual(order, ['a failed', 'b ok']);
    assert.equal(calls.length, 3);
    assert.deepEqual(calls[2]!.names, ['w']);
    assert.equal(calls[2]!.withText, false, 'the script is there: the later call found it');
    calls[2]!.answer(6);
    assert.deepEqual(offsets(await w), [6]);
  });

  it('a NOSCRIPT call fails when a call sent after it failed otherwise (it may have run: a dropped connection)', async () => {
    const { calls, order, a, b } = await twoUnanswered();
    calls[0]!.fail(noScript());
    calls[1]!.fail(new Error('the Redis connection dropped before answering (a publication may or may not have been made)'));
    await assert.rejects(a, (err: Error) => err.message === SCRIPT_LOST_MESSAGE);
    await assert.rejects(b, /may or may not/);
    assert.deepEqual(order, ['a failed', 'b failed']);
    await nextTurn();
    assert.equal(calls.length, 2, 'nothing is sent again');
  });

  it('publications sent again go with the script text in every call they take (a keyed and a plain call)', async () => {
    const { calls, channelCalls } = setup();
    const plain = channelCalls.enqueue('c', [Buffer.from('p')], undefined);
    await nextTurn();
    const keyed = channelCalls.enqueue('c', [Buffer.from('k')], ['key']);
    await nextTurn();
    calls[0]!.fail(noScript());
    calls[1]!.fail(noScript());
    await nextTurn();
    assert.deepEqual(
      calls.slice(2).map((c) => [c.names, c.withText]),
      [
        [['p'], true],
        [['k'], true],
      ],
      'sent again in their order, in two calls (keyed and plain never share one), both with the text',
    );
    calls[2]!.answer(1);
    calls[3]!.answer(2);
    assert.deepEqual(offsets(await plain), [1]);
    assert.deepEqual(offsets(await keyed), [2]);
  });

  it('with two calls in flight a call carries at most MAX_SCRIPT_BATCH publications, and a batch publish is never split', async () => {
    const { calls, publish } = setup();
    void publish('c', 'm0');
    await nextTurn();
    const singles = Array.from({ length: MAX_SCRIPT_BATCH + 10 }, (_, i) => publish('c', `s${i}`));
    const batch = publish('c', ...Array.from({ length: MAX_SCRIPT_BATCH + 5 }, (_, i) => `b${i}`));
    await nextTurn();
    assert.equal(calls.length, 2, 'the second call at once');
    assert.equal(calls[1]!.names.length, MAX_SCRIPT_BATCH);
    calls[0]!.answer(1);
    await nextTurn();
    assert.deepEqual(
      calls[2]!.names,
      Array.from({ length: 10 }, (_, i) => `s${MAX_SCRIPT_BATCH + i}`),
      'the rest of the singles; the batch does not fit beside them',
    );
    calls[1]!.answer(2);
    await nextTurn();
    assert.equal(calls[3]!.names.length, MAX_SCRIPT_BATCH + 5, 'the batch, whole, in one call');
    calls[2]!.answer(2 + MAX_SCRIPT_BATCH);
    calls[3]!.answer(12 + MAX_SCRIPT_BATCH);
    assert.deepEqual(
      (await Promise.all(singles)).map((r) => offsets(r)[0]),
      Array.from({ length: MAX_SCRIPT_BATCH + 10 }, (_, i) => i + 2),
    );
    assert.equal(offsets(await batch).at(-1), 16 + 2 * MAX_SCRIPT_BATCH);
  });

  it('a call carries at most MAX_SCRIPT_BATCH_BYTES of data (exactly that much fits), unless one publication is larger', async () => {
    const { calls, channelCalls } = setup(1);
    const bytes = (n: number, fill: string): Buffer => Buffer.alloc(n, fill);
    void channelCalls.enqueue('c', [Buffer.from('m0')], undefined);
    await nextTurn();
    /** Answers call k; the first byte of each publication the next call carries. */
    const answerAndNext = async (k: number): Promise<string[]> => {
      calls[k]!.answer(k + 1);
      await nextTurn();
      return calls[k + 1]!.names.map((n) => n[0]!);
    };
    const third = Math.floor(MAX_SCRIPT_BATCH_BYTES / 3) + 1;
    for (const fill of ['a', 'b', 'c']) void channelCalls.enqueue('c', [bytes(third, fill)], undefined);
    assert.deepEqual(await answerAndNext(0), ['a', 'b'], 'a third would go over the limit');
    assert.deepEqual(await answerAndNext(1), ['c']);
    for (const fill of ['d', 'e']) void channelCalls.enqueue('c', [bytes(MAX_SCRIPT_BATCH_BYTES / 2, fill)], undefined);
    void channelCalls.enqueue('c', [bytes(MAX_SCRIPT_BATCH_BYTES * 2, 'f')], undefined);
    assert.deepEqual(await answerAndNext(2), ['d', 'e'], 'exactly the limit fits in one call');
    assert.deepEqual(await answerAndNext(3), ['f'], 'a larger publication goes alone');
    assert.equal(calls[4]!.names[0]!.length, MAX_SCRIPT_BATCH_BYTES * 2);
  });

  it('a NOSCRIPT call after one that got through is sent again', async () => {
    const { calls, a, b } = await twoUnanswered();
    calls[0]!.answer(1);
    calls[1]!.fail(noScript());
    assert.deepEqual(offsets(await a), [1]);
    await nextTurn();
    assert.deepEqual(calls[2]!.names, ['b']);
    assert.equal(calls[2]!.withText, true);
    calls[2]!.answer(2);
    assert.deepEqual(offsets(await b), [2]);
  });

  it('another error is not sent again: it fails its own publishers only', async () => {
    const { calls, publish } = setup(1);
    const a = publish('c', 'a');
    await nextTurn();
    const b = publish('c', 'b');
    calls[0]!.fail(new Error('ERR boom'));
    await assert.rejects(a, /ERR boom/);
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[1]!.names, ['b']);
    calls[1]!.answer(1);
    assert.deepEqual(offsets(await b), [1]);
  });

  it('with one call in flight, a second waits for the answer; an idle channel is forgotten', async () => {
    const { calls, channelCalls, publish } = setup(1);
    const a = publish('c', 'a');
    await nextTurn();
    void publish('c', 'b');
    await nextTurn();
    assert.equal(calls.length, 1);
    calls[0]!.answer(1);
    await a;
    assert.equal(calls.length, 2);
    calls[1]!.answer(2);
    await nextTurn();
    assert.equal(channelCalls.busyChannels, 0);
  });
});
