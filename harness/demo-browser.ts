/**
 * Drives the demo page (`broadcaster --demo`) in a real headless Chromium (Debian's
 * /usr/bin/chromium through playwright-core): the browser end-to-end test and the README
 * screenshot script share it.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Where Debian installs Chromium (`apt-get install chromium`). */
export const CHROMIUM = process.env.BROADCASTER_CHROMIUM ?? '/usr/bin/chromium';

/** True when Chromium is installed. */
export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM);
}

/** Launches headless Chromium (`--no-sandbox`: tests run as root here). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
}

/** One open demo page. */
export class DemoPage {
  private constructor(readonly page: Page) {}

  /** Opens `/demo` of `http` with the WebSocket addresses to try in turn and a chat name. */
  static async open(browser: Browser, http: string, servers: string[], name: string): Promise<DemoPage> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
    await page.goto(`${http}/demo?servers=${encodeURIComponent(servers.join(','))}&name=${encodeURIComponent(name)}`);
    return new DemoPage(page);
  }

  /** The connection state badge. */
  state(): Promise<string> {
    return this.page
      .locator('#state')
      .getAttribute('data-state')
      .then((s) => s ?? '');
  }

  /** Sends a chat message through the form and waits until the publish succeeded (the input clears). */
  async say(text: string): Promise<void> {
    await this.page.fill('#send input[name="text"]', text);
    await this.page.press('#send input[name="text"]', 'Enter');
    await this.page.waitForFunction(() => (document.querySelector('#send input[name="text"]') as HTMLInputElement).value === '', null, { timeout: 10_000 });
  }

  /** The chat as shown: [offset, text] per line, in page order. */
  messages(): Promise<Array<[number, string]>> {
    return this.page.$$eval('#messages li', (lis) =>
      lis.map((li) => [Number((li as HTMLElement).dataset.offset), li.querySelector('.text')?.textContent ?? ''] as [number, string]),
    );
  }

  /** The client ids on the presence list. */
  presence(): Promise<string[]> {
    return this.page.$$eval('#presence li', (lis) => lis.map((li) => (li as HTMLElement).dataset.client ?? ''));
  }

  /** This page's own client id as shown. */
  me(): Promise<string> {
    return this.page
      .locator('#me')
      .textContent()
      .then((t) => t ?? '');
  }

  /** The events log, newest first. */
  events(): Promise<string[]> {
    return this.page.$$eval('#events li', (lis) => lis.map((li) => li.textContent ?? ''));
  }
}
