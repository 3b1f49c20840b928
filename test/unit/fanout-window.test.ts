import { strict as assert } from 'node:assert';
import { describe, it, mock } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EMPTY_WINDOWS_BEFORE_CLOSE, FRAMES_PER_WRITE, FanoutWindow } from '../../src/hub/fanout-window';

/** Waits (polling, at most 5 s) until `check` holds: the order of events is asserted, never their timing. */
async function until(what: string, check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 2) {
    if (waited > 5000) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Runs `body` with setTimeout mocked (driven by mock.timers.tick), restoring the real one after, also on failure. */
async function withMockTimers(body: () => Promise<void>): Promise<void> {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    await body();
  } finally {
    mock.timers.reset();
  }
}

/** One window's time (1 ms of mocked timers), then the rest of that loop iteration. */
async function windowTime(): Promise<void> {
  mock.timers.tick(1);
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * From the loop iteration after a delivery: `channel`'s window (without one, any window) stays
 * open through EMPTY_WINDOWS_BEFORE_CLOSE - 1 empty windows and is closed after one more.
 */
async function closesAfterEmptyWindows(w: FanoutWindow, channel?: string): Promise<void> {
  mock.timers.tick(0);
  for (let empty = 1; empty < EMPTY_WINDOWS_BEFORE_CLOSE; empty++) await windowTime();
  assert.equal(w.isOpen(channel), true, `${channel ?? 'a window'} open after ${EMPTY_WINDOWS_BEFORE_CLOSE - 1} empty windows`);
  await windowTime();
  assert.equal(w.isOpen(channel), false, `closed after ${EMPTY_WINDOWS_BEFORE_CLOSE} empty windows in a row`);
}

function recorder(): { seen: string[]; window: (ms: number) => FanoutWindow } {
  const seen: string[] = [];
  return { seen, window: (ms) => new FanoutWindow(ms, (channel, envelope) => seen.push(`${channel}:${envelope.toString()}`)) };
}

describe('FanoutWindow', () => {
  it('delivers the first publication after a quiet window at once', () => {
    const { seen, window } = recorder();
    const w = window(5);
    w.accept('a', Buffer.from('1'));
    assert.deepEqual(seen, ['a:1']);
    w.drain();
  });

  it("gathers what arrives on a channel while its window is open and delivers it in order when it ends; another channel's first goes out at once", async () => {
    const { seen, window } = recorder();
    const w = window(5);
    w.accept('a', Buffer.from('1'));
    w.accept('b', Buffer.from('2'));
    w.accept('a', Buffer.from('3'));
    w.accept('b', Buffer.from('4'));
    assert.deepEqual(seen, ['a:1', 'b:2'], "each channel's first at once, the others wait for their channel's window");
    assert.equal(w.isOpen('a'), true);
    assert.equal(w.isOpen('c'), false);
    await until('the window to end', () => seen.length === 4);
    assert.deepEqual(seen, ['a:1', 'b:2', 'a:3', 'b:4']);
    // the windows that followed the flush saw nothing and they closed: the next one goes out at once
    await until('the windows to close', () => !w.isOpen());
    w.accept('a', Buffer.from('5'));
    assert.deepEqual(seen, ['a:1', 'b:2', 'a:3', 'b:4', 'a:5']);
    w.drain();
  });

  it('keeps order across consecutive windows', async () => {
    const { seen, window } = recorder();
    const w = window(2);
    const expected: string[] = [];
    for (let i = 0; i < 50; i++) {
      w.accept('c', Buffer.from(String(i)));
      expected.push(`c:${i}`);
      if (i % 10 === 9) await sleep(3);
    }
    await until('every publication', () => seen.length === expected.length);
    assert.deepEqual(seen, expected);
  });

  it('drain() delivers what is gathered and closes the window; the window works as before afterwards', () => {
    const { seen, window } = recorder();
    const w = window(1000);
    w.accept('a', Buffer.from('1'));
    w.accept('a', Buffer.from('2'));
    w.accept('b', Buffer.from('3'));
    w.accept('b', Buffer.from('4'));
    w.accept('a', Buffer.from('5'));
    assert.deepEqual(seen, ['a:1', 'b:3']);
    w.drain();
    assert.deepEqual(seen, ['a:1', 'b:3', 'a:2', 'a:5', 'b:4'], 'each channel in order');
    assert.equal(w.isOpen(), false);
    w.accept('a', Buffer.from('6'));
    w.accept('a', Buffer.from('7'));
    assert.deepEqual(seen.slice(5), ['a:6'], 'the first after drain at once, the next gathered');
    w.drain();
    assert.deepEqual(seen.slice(5), ['a:6', 'a:7']);
  });

  it('after drain() no timer of the closed window opens it again', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { seen, window } = recorder();
    const w = window(5);
    w.accept('a', Buffer.from('1'));
    w.accept('a', Buffer.from('2'));
    w.drain();
    for (let ms = 1; ms <= 20; ms++) {
      t.mock.timers.tick(1);
      assert.equal(w.isOpen(), false, `${ms} ms after drain()`);
    }
    w.accept('a', Buffer.from('3'));
    assert.deepEqual(seen, ['a:1', 'a:2', 'a:3']);
    w.drain();
  });

  it('delivers at once with window 0, and drain() delivers what is gathered', () => {
    const { seen, window } = recorder();
    const zero = window(0);
    zero.accept('a', Buffer.from('1'));
    zero.accept('a', Buffer.from('2'));
    assert.deepEqual(seen, ['a:1', 'a:2']);
    const w = window(1000);
    w.accept('b', Buffer.from('1'));
    w.accept('b', Buffer.from('2'));
    w.drain();
    assert.deepEqual(seen, ['a:1', 'a:2', 'b:1', 'b:2']);
  });

  it('stays open through empty windows, and closes after EMPTY_WINDOWS_BEFORE_CLOSE of them in a row', async () => {
    await withMockTimers(async () => {
      const { seen, window } = recorder();
      const w = window(1);
      w.accept('a', Buffer.from('1'));
      assert.deepEqual(seen, ['a:1']);
      mock.timers.tick(0); // the loop iteration after the fan-out: the window starts
      for (let empty = 1; empty < EMPTY_WINDOWS_BEFORE_CLOSE; empty++) {
        await windowTime();
        assert.equal(w.isOpen(), true, `still open after ${empty} empty window(s)`);
      }
      // a publication after empty windows waits for the end of the current one
      w.accept('a', Buffer.from('2'));
      assert.deepEqual(seen, ['a:1']);
      await windowTime();
      assert.deepEqual(seen, ['a:1', 'a:2']);
      // the count starts again after a delivery
      await closesAfterEmptyWindows(w);
      w.accept('a', Buffer.from('3'));
      assert.deepEqual(seen, ['a:1', 'a:2', 'a:3'], 'after a quiet spell the first publication goes out at once');
      w.drain();
    });
  });

  it("a busy channel's window does not hold back another channel; each closes after its own empty windows", async () => {
    await withMockTimers(async () => {
      const { seen, window } = recorder();
      const w = window(1);
      w.accept('busy', Buffer.from('1'));
      mock.timers.tick(0);
      // busy gets a publication in every window; quiet gets one, in the middle of a window
      w.accept('busy', Buffer.from('2'));
      w.accept('quiet', Buffer.from('1'));
      assert.deepEqual(seen, ['busy:1', 'quiet:1'], "quiet's first does not wait for busy's window");
      w.accept('quiet', Buffer.from('2'));
      await windowTime();
      assert.deepEqual(seen, ['busy:1', 'quiet:1', 'busy:2', 'quiet:2'], 'both windows end together');
      for (let window = 1; window <= EMPTY_WINDOWS_BEFORE_CLOSE; window++) {
        mock.timers.tick(0);
        w.accept('busy', Buffer.from(`w${window}`));
        await windowTime();
        assert.equal(w.isOpen('busy'), true, `busy open in window ${window}`);
        assert.equal(w.isOpen('quiet'), window < EMPTY_WINDOWS_BEFORE_CLOSE, `quiet after ${window} empty window(s)`);
      }
      w.accept('quiet', Buffer.from('3'));
      assert.equal(seen.at(-1), 'quiet:3', 'quiet closed: its next publication goes out at once');
      w.accept('busy', Buffer.from('last'));
      assert.notEqual(seen.at(-1), 'busy:last', 'busy is still open: its publication waits');
      w.drain();
      assert.equal(seen.at(-1), 'busy:last');
    });
  });
  it('hands a channel over as soon as it gathered FRAMES_PER_WRITE (what uWS writes at once), the rest at the end; a window that did counts as busy', async () => {
    await withMockTimers(async () => {
      const { seen, window } = recorder();
      const w = window(1);
      w.accept('a', Buffer.from('first'));
      w.accept('b', Buffer.from('first'));
      mock.timers.tick(0);
      const sent = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `a:${from + i}`);
      for (let i = 0; i < FRAMES_PER_WRITE - 1; i++) w.accept('a', Buffer.from(String(i)));
      w.accept('b', Buffer.from('x'));
      assert.deepEqual(seen, ['a:first', 'b:first'], 'one short of a full write: all wait');
      w.accept('a', Buffer.from(String(FRAMES_PER_WRITE - 1)));
      assert.deepEqual(seen, ['a:first', 'b:first', ...sent(0, FRAMES_PER_WRITE)], 'a full write goes at once, in order; b waits for the end');
      for (let i = FRAMES_PER_WRITE; i < FRAMES_PER_WRITE + 3; i++) w.accept('a', Buffer.from(String(i)));
      await windowTime();
      assert.deepEqual(seen, ['a:first', 'b:first', ...sent(0, FRAMES_PER_WRITE), 'a:32', 'a:33', 'a:34', 'b:x'], 'the rest at the end');
      // Windows whose publications all went out early are not empty ones: the channel stays open.
      for (let window = 0; window < EMPTY_WINDOWS_BEFORE_CLOSE + 2; window++) {
        mock.timers.tick(0);
        for (let i = 0; i < FRAMES_PER_WRITE; i++) w.accept('a', Buffer.from('n'));
        await windowTime();
        assert.equal(w.isOpen('a'), true, `a open after ${window + 1} full window(s)`);
      }
      assert.equal(seen.filter((s) => s === 'a:n').length, FRAMES_PER_WRITE * (EMPTY_WINDOWS_BEFORE_CLOSE + 2));
      assert.equal(w.isOpen('b'), false, 'b closed after its empty windows');
      // After the last full window, empty ones are counted from the next.
      await closesAfterEmptyWindows(w, 'a');
      w.drain();
    });
  });

  it('a drained window leaves no timer behind: a window opened after drain() lasts its full time', async () => {
    await withMockTimers(async () => {
      const { seen, window } = recorder();
      const w = window(5);
      w.accept('a', Buffer.from('1'));
      w.accept('a', Buffer.from('2'));
      mock.timers.tick(0); // the window's 5 ms start now
      mock.timers.tick(2);
      w.drain();
      w.accept('a', Buffer.from('3'));
      w.accept('a', Buffer.from('4'));
      mock.timers.tick(0); // the new window's 5 ms start now: it ends 7 ms after the first started
      mock.timers.tick(3); // the drained window would have ended here
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.deepEqual(seen, ['a:1', 'a:2', 'a:3'], 'a:4 waits for its own window');
      mock.timers.tick(2);
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.deepEqual(seen, ['a:1', 'a:2', 'a:3', 'a:4']);
      w.drain();
    });
  });

  it('once every window has closed no timer runs: the next window lasts its full time', async () => {
    await withMockTimers(async () => {
      const { seen, window } = recorder();
      const w = window(5);
      w.accept('a', Buffer.from('1'));
      mock.timers.tick(0);
      for (let empty = 0; empty < EMPTY_WINDOWS_BEFORE_CLOSE; empty++) {
        mock.timers.tick(5);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      assert.equal(w.isOpen(), false);
      mock.timers.tick(2); // a timer still running would now be 2 ms into a window
      w.accept('a', Buffer.from('2'));
      w.accept('a', Buffer.from('3'));
      mock.timers.tick(0);
      mock.timers.tick(4);
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.deepEqual(seen, ['a:1', 'a:2'], 'a:3 waits for the whole of its window');
      mock.timers.tick(1);
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.deepEqual(seen, ['a:1', 'a:2', 'a:3']);
      w.drain();
    });
  });
});
