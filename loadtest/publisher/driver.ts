/**
 * Fixed-rate publisher driver: sends `rate` messages per second, round-robin over the
 * channels, each payload stamped with its send time, its per-channel sequence number and the
 * publisher id (see protocol/payload.ts). Bounded by duration and message count.
 */
import { makePayload, stampPayload } from '../protocol/payload.js';
import {
  httpConcurrentTransport,
  httpTransport,
  redisHistoryTransport,
  redisTransport,
  wsTransport,
  type PublishTransport,
  type PublishVia,
} from './transports.js';

/** Everything the driver needs. */
export interface PublisherOptions {
  /** transport */
  via: PublishVia;
  /** http://host:port (http), redis://host:port (redis, redis-history, socketio-redis) or ws://host:port/ws (ws) */
  target: string;
  /** Redis channel prefix (bc: for broadcaster, socket.io for the socket.io emitter format) */
  redisPrefix: string;
  /** messages per second over all channels */
  rate: number;
  /** payload bytes (>= 16) */
  size: number;
  /** channel names; message k goes to channels[k % channels.length] */
  channels: string[];
  /** stop sending after this many ms */
  durationMs: number;
  /** stop sending after this many messages */
  maxMessages: number;
  /** publisher id written into every payload */
  publisherId: number;
  /** HTTP keep-alive connections (channel i uses connection i % lanes) */
  lanes: number;
  /** do not start a new publish while this many are unacknowledged (counted as skipped) */
  maxInFlight: number;
  /**
   * HTTP only: 0 publishes sequentially, one request at a time per lane (channel i on lane
   * i % lanes); N > 0 keeps up to N requests in flight over N keep-alive connections whatever the
   * channel (a busy backend: publications of one channel may then reach the server out of order)
   */
  httpInFlight?: number;
}

/** Driver figures, cumulative. */
export interface PublisherResult {
  /** publishes attempted */
  sent: number;
  /** publishes acknowledged */
  acked: number;
  /** publishes that failed */
  failed: number;
  /** ticks skipped because maxInFlight was reached */
  skipped: number;
  /** acknowledged publishes per channel index */
  ackedPerChannel: number[];
  /** sequence numbers assigned per channel index */
  sentPerChannel: number[];
  /** publishes that failed explicitly, per channel index */
  failedPerChannel: number[];
  /** a few error texts with counts */
  errors: Record<string, number>;
  /** smallest Redis receiver count seen (-1 when not Redis) */
  minReceivers: number;
  /** achieved sending time, ms */
  elapsedMs: number;
}

/** Creates the transport for the options. */
export function createTransport(o: PublisherOptions): PublishTransport {
  switch (o.via) {
    case 'http':
      return (o.httpInFlight ?? 0) > 0 ? httpConcurrentTransport(o.target, o.httpInFlight!) : httpTransport(o.target, o.lanes);
    case 'redis':
      return redisTransport(o.target, o.redisPrefix, 'bc');
    case 'redis-history':
      return redisHistoryTransport(o.target, o.redisPrefix);
    case 'socketio-redis':
      return redisTransport(o.target, o.redisPrefix, 'socketio');
    case 'ws':
      return wsTransport(o.target);
  }
}

/** A running publisher; `stop()` ends sending early. */
export interface RunningPublisher {
  /** Live figures. */
  readonly result: PublisherResult;
  /** Ends sending; the returned promise settles when in-flight publishes have settled. */
  stop(): Promise<PublisherResult>;
  /** Settles when sending ended (duration, count or stop) and in-flight publishes settled. */
  readonly done: Promise<PublisherResult>;
}

/** Connects and starts publishing. */
export async function startPublisher(o: PublisherOptions): Promise<RunningPublisher> {
  if (o.channels.length === 0) throw new Error('publisher: no channels');
  const transport = createTransport(o);
  await transport.ready();
  const C = o.channels.length;
  const result: PublisherResult = {
    sent: 0,
    acked: 0,
    failed: 0,
    skipped: 0,
    ackedPerChannel: new Array<number>(C).fill(0),
    sentPerChannel: new Array<number>(C).fill(0),
    failedPerChannel: new Array<number>(C).fill(0),
    errors: {},
    minReceivers: -1,
    elapsedMs: 0,
  };
  const template = makePayload(o.size);
  let inFlight = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let resolveDone!: (r: PublisherResult) => void;
  const done = new Promise<PublisherResult>((r) => (resolveDone = r));
  const start = performance.now();

  function publishOne(): void {
    const k = result.sent;
    const ch = k % C;
    const seq = result.sentPerChannel[ch]!;
    result.sentPerChannel[ch] = seq + 1;
    result.sent++;
    inFlight++;
    const payload = Buffer.allocUnsafe(template.length);
    template.copy(payload);
    stampPayload(payload, seq, o.publisherId);
    transport.publish(ch, o.channels[ch]!, payload, (err, receivers) => {
      inFlight--;
      if (err === null) {
        result.acked++;
        result.ackedPerChannel[ch]!++;
        if (receivers !== undefined && (result.minReceivers < 0 || receivers < result.minReceivers)) {
          result.minReceivers = receivers;
        }
      } else {
        result.failed++;
        result.failedPerChannel[ch]!++;
        const key = err.slice(0, 80);
        result.errors[key] = (result.errors[key] ?? 0) + 1;
      }
      if (stopped && inFlight === 0) void settle();
    });
  }

  function tick(): void {
    timer = undefined;
    if (stopped) return;
    const elapsed = performance.now() - start;
    if (elapsed >= o.durationMs || result.sent >= o.maxMessages) {
      end();
      return;
    }
    const due = Math.min(o.maxMessages, Math.floor((elapsed * o.rate) / 1000) + 1);
    while (result.sent < due) {
      if (inFlight >= Math.min(o.maxInFlight, o.httpInFlight || Number.POSITIVE_INFINITY)) {
        result.skipped++;
        break;
      }
      publishOne();
    }
    const nextAt = start + (result.sent * 1000) / o.rate;
    timer = setTimeout(tick, Math.max(0, nextAt - performance.now()));
  }

  let settling = false;
  async function settle(): Promise<void> {
    if (settling) return;
    settling = true;
    await transport.close();
    resolveDone(result);
  }

  function end(): void {
    if (stopped) return;
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    result.elapsedMs = performance.now() - start;
    if (inFlight === 0) void settle();
    else
      setTimeout(() => {
        if (inFlight > 0) {
          result.errors['unacknowledged at stop'] = inFlight;
          void settle();
        }
      }, 10_000).unref();
  }

  tick();
  return {
    result,
    done,
    stop() {
      end();
      return done;
    },
  };
}
