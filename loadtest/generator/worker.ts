/**
 * Generator worker process (forked by the coordinator): opens its share of subscribers, counts
 * every delivered payload per subscriber, records latency, reports progress and final figures.
 */
import { openRawClient, openRawSocketIoClient } from './raw-client.js';
import { openWsClient } from './ws-client.js';
import { openSocketIoClient } from './socketio-client.js';
import type { ClientEvents, ClientFactory, ConnectSpec, SubscriberClient } from './client-types.js';
import { SequenceTracker, addCounts, emptyCounts } from './sequence-tracker.js';
import { addSubscriberLoss, emptyBreakdown } from './loss-breakdown.js';
import { createHistogram, encodeHistogram, recordMs } from './latency.js';
import type { FromWorker, ToWorker, WorkerConfig } from './messages.js';
import { sourceAddressFor } from './source-address.js';
import { nowMs } from '../protocol/payload.js';

const factories: Record<WorkerConfig['client'], ClientFactory> = {
  raw: openRawClient,
  ws: openWsClient,
  socketio: openSocketIoClient,
  'socketio-raw': openRawSocketIoClient,
};

function send(msg: FromWorker): void {
  if (process.send !== undefined && process.connected) process.send(msg);
}

function bump(map: Record<string, number>, key: string): void {
  const k = key.length > 80 ? key.slice(0, 80) : key;
  map[k] = (map[k] ?? 0) + 1;
}

/** Runs one worker until told to exit. */
function run(config: WorkerConfig): void {
  const P = config.maxPublishers;
  const tracker = new SequenceTracker(config.count * P);
  const opened = new Uint8Array(config.count);
  /** 1 once an opened subscriber closed before the end */
  const closedEarly = new Uint8Array(config.count);
  const interval = createHistogram();
  const total = createHistogram();
  const clients: (SubscriberClient | undefined)[] = new Array(config.count);
  const failReasons: Record<string, number> = {};
  const retryReasons: Record<string, number> = {};
  const attempts = new Uint8Array(config.count);
  /** subscribers waiting for their retry back-off to pass */
  let waitingRetry = 0;
  const closeReasons: Record<string, number> = {};
  let nOpened = 0;
  let nFailed = 0;
  let nClosed = 0;
  let received = 0;
  let lastReceivedAt = 0;
  let malformed = 0;
  let other = 0;
  let nextToOpen = 0;
  let inFlight = 0;
  let connectedSent = false;

  const events: ClientEvents = {
    open(sub) {
      opened[sub] = 1;
      nOpened++;
      inFlight--;
      pump();
    },
    fail(sub, reason) {
      clients[sub] = undefined;
      inFlight--;
      if (attempts[sub]! < config.connectRetries) {
        // refused, reset or timed out: try again after an exponential back-off with jitter
        const delay = config.retryBackoffMs * 2 ** attempts[sub]! * (0.5 + Math.random());
        attempts[sub]!++;
        bump(retryReasons, reason);
        waitingRetry++;
        setTimeout(() => {
          waitingRetry--;
          retryQueue.push(sub);
          pump();
        }, delay);
        pump();
        return;
      }
      nFailed++;
      bump(failReasons, reason);
      pump();
    },
    close(sub, reason) {
      clients[sub] = undefined;
      closedEarly[sub] = 1;
      nClosed++;
      bump(closeReasons, reason);
    },
    payload(sub, buf, start, end, now) {
      if (end - start < 16) {
        malformed++;
        return;
      }
      const publisher = buf.readUInt32LE(start + 12);
      if (publisher >= P) {
        malformed++;
        return;
      }
      received++;
      lastReceivedAt = now;
      tracker.record(sub * P + publisher, buf.readUInt32LE(start + 8));
      recordMs(interval, now - buf.readDoubleLE(start));
    },
    other() {
      other++;
    },
    malformed() {
      malformed++;
    },
  };

  const factory = factories[config.client];
  const retryQueue: number[] = [];
  function pump(): void {
    while (inFlight < config.connectConcurrency && (retryQueue.length > 0 || nextToOpen < config.count)) {
      const sub = retryQueue.length > 0 ? retryQueue.shift()! : nextToOpen++;
      const g = config.firstSubscriber + sub;
      const spec: ConnectSpec = {
        sub,
        host: config.host,
        port: config.ports.length > 0 ? config.ports[g % config.ports.length]! : config.port,
        path: config.path,
        query: config.query,
        channel: config.channels[g % config.channels.length]!,
        localAddress: sourceAddressFor(g, config.sourceAddresses, config.perAddress),
        ...(config.localPortBase > 0 && attempts[sub] === 0 ? { localPort: config.localPortBase + (g % config.perAddress) } : {}),
        timeoutMs: config.timeoutMs,
      };
      inFlight++;
      clients[sub] = factory(spec, events);
    }
    if (!connectedSent && nOpened + nFailed === config.count && waitingRetry === 0 && retryQueue.length === 0) {
      connectedSent = true;
      send({ type: 'connected', workerId: config.workerId, opened: nOpened, failed: nFailed, closed: nClosed, failReasons, retryReasons });
    }
  }

  let lastTick = performance.now();
  let maxProgressGapMs = 0;
  const progress = setInterval(() => {
    const tick = performance.now();
    maxProgressGapMs = Math.max(maxProgressGapMs, tick - lastTick);
    lastTick = tick;
    total.add(interval);
    const histogram = encodeHistogram(interval);
    interval.reset();
    send({
      type: 'progress',
      workerId: config.workerId,
      opened: nOpened,
      failed: nFailed,
      closed: nClosed,
      received,
      malformed,
      other,
      missing: tracker.totalMissingSoFar(),
      duplicates: tracker.totalDuplicates(),
      lastReceivedAt,
      histogram,
    });
  }, config.progressMs);

  function finish(expected: number[][], round: number): void {
    total.add(interval);
    interval.reset();
    const counts = emptyCounts();
    const loss = emptyBreakdown();
    let subscribersWithLoss = 0;
    let maxLoss = 0;
    let minReceived = Number.POSITIVE_INFINITY;
    let maxReceived = 0;
    for (let sub = 0; sub < config.count; sub++) {
      if (opened[sub] !== 1) continue;
      const ch = (config.firstSubscriber + sub) % config.channels.length;
      const perChannel = expected[ch] ?? [];
      let lost = 0;
      let lostAtTail = 0;
      let got = 0;
      for (let p = 0; p < P; p++) {
        const c = tracker.finish(sub * P + p, perChannel[p] ?? 0);
        addCounts(counts, c);
        lost += c.lost;
        lostAtTail += c.lostAtTail;
        got += c.received;
      }
      addSubscriberLoss(loss, lost, lostAtTail, closedEarly[sub] === 1);
      if (lost > 0) subscribersWithLoss++;
      if (lost > maxLoss) maxLoss = lost;
      if (got < minReceived) minReceived = got;
      if (got > maxReceived) maxReceived = got;
    }
    send({
      type: 'report',
      workerId: config.workerId,
      round,
      opened: nOpened,
      failed: nFailed,
      closed: nClosed,
      counts,
      loss,
      lastReceivedAt,
      reportedAt: nowMs(),
      maxProgressGapMs: Math.round(Math.max(maxProgressGapMs, performance.now() - lastTick)),
      subscribersWithLoss,
      maxLoss,
      minReceived: minReceived === Number.POSITIVE_INFINITY ? 0 : minReceived,
      maxReceived,
      malformed,
      other,
      closeReasons,
      failReasons,
      retryReasons,
      histogram: encodeHistogram(total),
      cpuUs: (() => {
        const u = process.cpuUsage();
        return u.user + u.system;
      })(),
    });
  }

  function exit(): void {
    clearInterval(progress);
    for (const c of clients) c?.close();
    setTimeout(() => process.exit(0), 50).unref();
  }

  process.on('message', (msg: ToWorker) => {
    if (msg.type === 'finish') finish(msg.expected, msg.round);
    else if (msg.type === 'exit') exit();
  });
  pump();
}

process.once('message', (msg: ToWorker) => {
  if (msg.type === 'start') run(msg.config);
});
// never outlive the coordinator
process.on('disconnect', () => process.exit(0));
