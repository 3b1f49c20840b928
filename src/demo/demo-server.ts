import type { Logger } from '../log/logger';

/** Channel the demo's ticker publishes on (every second, from the server itself). */
export const DEMO_TICKER_CHANNEL = 'demo:ticker';

/** Milliseconds between two ticks. */
export const DEMO_TICK_MS = 1000;

/** What the ticker needs: the server's publish and logger. */
export interface DemoHost {
  publish(channel: string, data: string): Promise<unknown>;
  readonly logger: Logger;
}

/** A running demo ticker. */
export interface DemoHandle {
  stop(): void;
}

/**
 * Starts the demo ticker: a JSON `{ "symbol", "price", "at" }` on demo:ticker every second, a
 * random walk. Every process of a deployment ticks; the page shows each tick with its offset.
 */
export function startDemo(host: DemoHost): DemoHandle {
  let price = 100;
  const timer = setInterval(() => {
    price = Math.max(1, price * (1 + (Math.random() - 0.5) / 50));
    const tick = JSON.stringify({ symbol: 'BCST', price: Math.round(price * 100) / 100, at: Date.now() });
    host.publish(DEMO_TICKER_CHANNEL, tick).catch((err: Error) => host.logger.warn({ err: err.message }, 'demo ticker: publish failed'));
  }, DEMO_TICK_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
