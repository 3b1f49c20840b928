// Takes docs/demo.png: the demo page (`broadcaster --demo`) in headless Chromium, two pages on
// two processes sharing a private redis-server, after a short chat. Run: npm run build && node dist/scripts/demo-screenshot.js
import { join } from 'node:path';
import { startReadyOn } from './demo-screenshot-servers';
import { DemoPage, launchChromium } from '../harness/demo-browser';

async function main(): Promise<void> {
  const { a, b, stop } = await startReadyOn();
  const browser = await launchChromium();
  try {
    const ann = await DemoPage.open(browser, a.http, [a.wsUrl(), b.wsUrl()], 'ann');
    const ben = await DemoPage.open(browser, b.http, [b.wsUrl(), a.wsUrl()], 'ben');
    await ann.page.waitForFunction(() => document.querySelectorAll('#presence li').length === 2, null, { timeout: 10_000 });
    await ann.say('hello from the first process');
    await ben.say('hi! I am on the second one');
    await ann.say('presence and offsets work across both');
    await ann.page.waitForFunction(() => document.querySelectorAll('#messages li').length === 3, null, { timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const file = join(__dirname, '..', '..', 'docs', 'demo.png');
    await ann.page.screenshot({ path: file });
    console.log(`wrote ${file}`);
  } finally {
    await browser.close();
    await stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
