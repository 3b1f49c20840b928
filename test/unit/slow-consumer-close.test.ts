import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import type { WebSocket } from '../../src/uws/uws';
import { SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_GRACE_MS, SLOW_CONSUMER_REASON, SlowConsumerClose } from '../../src/ws/slow-consumer-close';

/** A stand-in for a uWS socket: its buffered amount, and what was called on it. */
function fakeSocket(buffered: { amount: number }) {
  const data = { closed: false };
  const calls: string[] = [];
  const ws = {
    getUserData: () => data,
    getBufferedAmount: () => buffered.amount,
    end: (code: number, reason: string) => {
      calls.push(`end ${code} ${reason}`);
      data.closed = true;
    },
    close: () => {
      calls.push('close');
      data.closed = true;
    },
  };
  return { ws: ws as unknown as WebSocket<{ closed: boolean }>, calls, data };
}

test('a socket that had frames dropped is ended with 4002 once its buffer is back within the limit', () => {
  const buffered = { amount: 80_000 };
  const { ws, calls } = fakeSocket(buffered);
  const closer = new SlowConsumerClose<{ closed: boolean }>(70_000, (d) => d.closed);
  closer.drain(ws); // not marked: nothing happens
  closer.dropped(ws);
  closer.dropped(ws);
  closer.drain(ws); // still over the limit: a close frame would be dropped too
  assert.deepEqual(calls, []);
  buffered.amount = 70_000;
  closer.drain(ws);
  assert.deepEqual(calls, [`end ${SLOW_CONSUMER_CLOSE_CODE} ${SLOW_CONSUMER_REASON}`]);
  closer.drain(ws);
  assert.equal(calls.length, 1);
});

test('a socket that does not drain within the grace time is closed without a close frame', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const { ws, calls } = fakeSocket({ amount: 80_000 });
    const drained = fakeSocket({ amount: 0 });
    const closer = new SlowConsumerClose<{ closed: boolean }>(70_000, (d) => d.closed);
    closer.dropped(ws);
    closer.dropped(drained.ws);
    closer.drain(drained.ws);
    mock.timers.tick(SLOW_CONSUMER_GRACE_MS - 1);
    assert.deepEqual(calls, []);
    mock.timers.tick(1);
    assert.deepEqual(calls, ['close']);
    assert.equal(drained.calls.length, 1, 'the ended socket is not closed again');
  } finally {
    mock.timers.reset();
  }
});
