import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chromiumInstalled, DemoPage, launchChromium } from '../../harness/demo-browser';
import { cleanupSteps } from '../helpers/cleanup';
import { TestRedis } from '../helpers/redis-server';
import { startReady } from '../helpers/server-process';
import { waitFor } from '../helpers/wait';

const TTL_SECONDS = 2;

describe('the demo page in a real browser (Chromium)', { timeout: 180_000, skip: chromiumInstalled() ? false : 'no /usr/bin/chromium: apt-get install chromium (.ci/run does)' }, () => {
  const steps = cleanupSteps();

  test('two pages on two processes chat through Redis; one process is killed; both show every message once, in order, and the right presence list', { timeout: 150_000 }, async () => {
    const redis = await TestRedis.start();
    steps.push(() => redis.kill());
    const args = ['--demo', '--presence-ttl', String(TTL_SECONDS)];
    const a = await startReady(redis.url, args);
    steps.push(() => a.stop());
    const b = await startReady(redis.url, args);
    steps.push(() => b.stop());
    const browser = await launchChromium();
    steps.push(() => browser.close());

    const ann = await DemoPage.open(browser, a.http, [a.wsUrl(), b.wsUrl()], 'ann');
    const ben = await DemoPage.open(browser, b.http, [b.wsUrl(), a.wsUrl()], 'ben');
    const pages = [ann, ben];
    const bothListed = async (): Promise<boolean> => {
      const ids = (await Promise.all(pages.map((p) => p.me()))).sort();
      if (ids.includes('–')) return false;
      for (const p of pages) if (JSON.stringify((await p.presence()).sort()) !== JSON.stringify(ids)) return false;
      return true;
    };
    await waitFor('both pages connected', async () => (await ann.state()) === 'connected' && (await ben.state()) === 'connected', 15_000);
    await waitFor('each page lists both', bothListed, 10_000);
    const benFirstId = await ben.me();

    const expected: string[] = [];
    for (let i = 1; i <= 3; i++) {
      await ann.say(`ann ${i}`);
      expected.push(`ann ${i}`);
      await ben.say(`ben ${i}`);
      expected.push(`ben ${i}`);
    }
    const showsAll = async (p: DemoPage): Promise<boolean> => (await p.messages()).length >= expected.length;
    await waitFor('both pages to show the first six', async () => (await showsAll(ann)) && (await showsAll(ben)), 10_000);

    // Ben's server dies; Ann keeps talking while Ben reconnects to Ann's server and recovers.
    b.signal('SIGKILL');
    await b.exited();
    for (let i = 4; i <= 6; i++) {
      await ann.say(`ann ${i}`);
      expected.push(`ann ${i}`);
    }
    await waitFor('ben reconnected', async () => (await ben.state()) === 'connected' && (await ben.me()) !== benFirstId, 20_000);
    await ben.say('ben is back');
    expected.push('ben is back');
    await waitFor('both pages to show every message', async () => (await showsAll(ann)) && (await showsAll(ben)), 10_000);

    for (const p of pages) {
      const shown = await p.messages();
      assert.deepEqual(shown.map(([, text]) => text), expected, 'every message once, in order');
      assert.deepEqual(shown.map(([offset]) => offset), expected.map((_, i) => i + 1), 'offsets 1..n without gaps');
    }
    assert.ok((await ben.events()).some((e) => e.includes('demo:chat recovered')), 'ben\'s page reports the recovery');
    // Ben's entry on the dead process disappears within the ttl; both lists hold exactly the two live clients.
    await waitFor('each page to list exactly the two live clients', bothListed, TTL_SECONDS * 4000);
    assert.ok(!(await ann.presence()).includes(benFirstId));
  });
});
