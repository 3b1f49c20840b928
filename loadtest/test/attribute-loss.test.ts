/** Unit tests for loss attribution: which evidence points at the generator, the server, or nobody. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attributeLoss, whoFellBehind, type LossEvidence } from '../loss/attribute-loss.js';
import { emptyBreakdown, type LossBreakdown } from '../generator/loss-breakdown.js';
import type { GeneratorLossView, RecountFigures } from '../generator/result.js';
import { emptyCounters, type ServerCounters } from '../loss/server-counters.js';
import { summarizeCauses } from '../compare/loss-report.js';

function breakdown(b: Partial<LossBreakdown>): LossBreakdown {
  return { ...emptyBreakdown(), ...b };
}

function recount(r: Partial<RecountFigures>): RecountFigures {
  return { waitedMs: 4000, end: 'quiet', lost: 0, late: 0, loss: emptyBreakdown(), closedEarly: 0, closeReasons: {}, ...r };
}

function generator(g: Partial<GeneratorLossView>): GeneratorLossView {
  return {
    drainEnd: 'quiet',
    atWindowEnd: emptyBreakdown(),
    recount: null,
    maxProgressGapMs: 1000,
    quietAtEndMs: 2000,
    unanswered: { publications: 0, deliveries: 0 },
    ...g,
  };
}

function server(s: Partial<ServerCounters>): ServerCounters {
  return { ...emptyCounters(), processes: 1, ...s };
}

function evidence(e: Partial<LossEvidence>): LossEvidence {
  return {
    lost: 0,
    generator: generator({}),
    closeReasons: {},
    subscribersWithLoss: 0,
    maxLossPerSubscriber: 0,
    server: server({}),
    queuedAtEnd: null,
    redis: null,
    ...e,
  };
}

const sum = (a: ReturnType<typeof attributeLoss>): number => a.causes.reduce((n, c) => n + c.count, 0);

test('no loss: no cause', () => {
  assert.deepEqual(attributeLoss(evidence({ lost: 0 })), { lost: 0, causes: [], verdict: 'no loss' });
});

test('messages that arrived during the recount were late; a saturated generator worker fell behind', () => {
  const a = attributeLoss(
    evidence({
      lost: 458_495,
      subscribersWithLoss: 5000,
      generator: generator({
        maxProgressGapMs: 4200,
        atWindowEnd: breakdown({ atTail: 458_495, openWithLoss: 5000 }),
        recount: recount({ late: 458_495, lost: 0 }),
      }),
    }),
  );
  assert.deepEqual(
    a.causes.map((c) => [c.kind, c.side, c.count]),
    [['late', 'generator', 458_495]],
  );
  assert.match(a.verdict, /^generator fell behind \(arrived after counting stopped\): 458495$/);
});

test('who fell behind: a backlog toward the subscribers or a silent worker, a backlog in Redis or unanswered publications', () => {
  const at = (down: number, up: number, gap = 1000, unanswered = 0): ReturnType<typeof whoFellBehind> =>
    whoFellBehind({
      generator: generator({ maxProgressGapMs: gap, unanswered: { publications: unanswered, deliveries: unanswered * 10 } }),
      queuedAtEnd: { serverBufferedBytes: 0, sockets: { connections: 100, serverSendQueue: 0, clientReceiveQueue: down }, pubsubOutputBytes: up },
    });
  assert.equal(at(1_000_000, 0), 'generator'); // 10 KB per connection
  assert.equal(at(100_000, 0), 'unknown'); // 1 KB per connection: frames in flight
  assert.equal(at(0, 0, 3000), 'generator');
  assert.equal(at(100, 5_000_000), 'server');
  assert.equal(at(0, 0, 1000, 3), 'server');
  assert.equal(at(1_000_000, 5_000_000), 'both');
  assert.equal(at(0, 0, 2500, 3), 'both');
  assert.equal(at(0, 0), 'unknown');
  assert.equal(whoFellBehind({ generator: generator({}), queuedAtEnd: null }), 'unknown');
});

test('subscribers the server cut for being slow: 1006 on the legacy build, counted by the server', () => {
  const a = attributeLoss(
    evidence({
      lost: 9000,
      closeReasons: { 'closed by peer': 3 },
      server: server({ abnormalCloses: 3 }),
      generator: generator({
        atWindowEnd: breakdown({ onClosed: 9000, closedWithLoss: 3 }),
        recount: recount({ lost: 9000, loss: breakdown({ onClosed: 9000, closedWithLoss: 3 }), closeReasons: { 'closed by peer': 3 } }),
      }),
    }),
  );
  assert.deepEqual(
    a.causes.map((c) => [c.kind, c.count]),
    [['server-cut', 9000]],
  );
  assert.match(a.verdict, /server cut 3 slow readers: 9000/);
});

test('a 4002 close on the current build is a slow-consumer cut', () => {
  const a = attributeLoss(
    evidence({
      lost: 100,
      closeReasons: { 'close frame 4002': 1 },
      server: server({ slowConsumerDrops: 40 }),
      generator: generator({ atWindowEnd: breakdown({ onClosed: 100, closedWithLoss: 1 }) }),
    }),
  );
  assert.equal(a.causes[0]?.kind, 'server-cut');
  assert.match(a.verdict, /server cut 1 slow reader: 100/);
});

test('subscribers closed for another reason are not blamed on slowness', () => {
  const a = attributeLoss(
    evidence({ lost: 50, closeReasons: { 'close frame 1001': 2 }, generator: generator({ atWindowEnd: breakdown({ onClosed: 50, closedWithLoss: 2 }) }) }),
  );
  assert.deepEqual(
    a.causes.map((c) => c.kind),
    ['closed'],
  );
  assert.match(a.verdict, /2 subscribers closed early: 50/);
});

test('gaps on open subscribers: the drop policy first, then unrepaired gaps, then a cut broker subscription', () => {
  // one drop event may stand for several frames (uWS skips the rest of that socket's batch uncounted)
  const dropped = attributeLoss(
    evidence({
      lost: 30,
      server: server({ slowConsumerDrops: 10 }),
      generator: generator({ atWindowEnd: breakdown({ inGaps: 30, openWithLoss: 2, openWithGaps: 2 }) }),
    }),
  );
  assert.deepEqual(
    dropped.causes.map((c) => [c.kind, c.count]),
    [['server-dropped', 30]],
  );
  const resync = attributeLoss(
    evidence({
      lost: 30,
      server: server({ gapsDetected: 2, gapsRepaired: 1, resyncsSent: 1 }),
      generator: generator({ atWindowEnd: breakdown({ inGaps: 30 }) }),
    }),
  );
  assert.deepEqual(
    resync.causes.map((c) => [c.kind, c.count]),
    [['server-resync', 30]],
  );
  const cut = attributeLoss(
    evidence({
      lost: 30,
      server: server({ brokerReconnects: 1 }),
      redis: { nodes: 1, outputBufferKills: 1, pubsubClients: 1, maxPubsubOutputBytes: 0 },
      generator: generator({ atWindowEnd: breakdown({ inGaps: 30 }) }),
    }),
  );
  assert.deepEqual(
    cut.causes.map((c) => [c.kind, c.count]),
    [['broker-cut', 30]],
  );
});

test('a tail still missing when counting gave up on moving deliveries is the generator behind', () => {
  const a = attributeLoss(
    evidence({
      lost: 1000,
      generator: generator({
        drainEnd: 'timeout',
        atWindowEnd: breakdown({ atTail: 1000, openWithLoss: 10 }),
        recount: recount({ end: 'timeout', late: 600, lost: 400, loss: breakdown({ atTail: 400, openWithLoss: 4 }) }),
      }),
    }),
  );
  assert.deepEqual(
    a.causes.map((c) => [c.kind, c.count]),
    [
      ['late', 600],
      ['in-flight', 400],
    ],
  );
  assert.match(a.verdict, /delivery fell behind \(arrived after counting stopped\): 600; delivery fell behind \(still on the way when counting stopped\): 400/);
});

test('publications the publisher had no answer for explain the tail before anything in flight', () => {
  const a = attributeLoss(
    evidence({
      lost: 48_000,
      generator: generator({
        drainEnd: 'timeout',
        atWindowEnd: breakdown({ atTail: 48_000, openWithLoss: 5 }),
        recount: recount({ end: 'timeout', late: 1000, lost: 47_000, loss: breakdown({ atTail: 47_000, openWithLoss: 5 }) }),
        unanswered: { publications: 9000, deliveries: 45_000 },
      }),
    }),
  );
  assert.deepEqual(
    a.causes.map((c) => [c.kind, c.count]),
    [
      ['unanswered', 45_000],
      ['in-flight', 2000],
      ['late', 1000],
    ],
  );
  assert.match(a.verdict, /^publications not accepted in time \(server behind on publishing\): 45000/);
});

test('without a recount, a backlog still queued explains a tail', () => {
  const base = { lost: 500, generator: generator({ atWindowEnd: breakdown({ atTail: 500, openWithLoss: 5 }) }) };
  const queued = attributeLoss(
    evidence({ ...base, queuedAtEnd: { serverBufferedBytes: 0, sockets: { connections: 5, serverSendQueue: 0, clientReceiveQueue: 65_536 } } }),
  );
  assert.deepEqual(
    queued.causes.map((c) => [c.kind, c.side]),
    [['in-flight', 'generator']],
  );
  const upstream = attributeLoss(
    evidence({
      ...base,
      queuedAtEnd: { serverBufferedBytes: 0, sockets: { connections: 5, serverSendQueue: 0, clientReceiveQueue: 0 }, pubsubOutputBytes: 1 << 20 },
    }),
  );
  assert.match(upstream.verdict, /^server fell behind \(still on the way when counting stopped\): 500$/);
  const empty = attributeLoss(
    evidence({ ...base, queuedAtEnd: { serverBufferedBytes: 0, sockets: { connections: 5, serverSendQueue: 0, clientReceiveQueue: 0 } } }),
  );
  assert.deepEqual(
    empty.causes.map((c) => c.kind),
    ['unexplained'],
  );
});

test('gaps on the legacy uWS build are unexplained, with a word on its uncounted drops', () => {
  const a = attributeLoss(
    evidence({
      lost: 40,
      server: server({ legacyBuildProcesses: 1 }),
      generator: generator({ atWindowEnd: breakdown({ inGaps: 40, openWithLoss: 4, openWithGaps: 4 }) }),
    }),
  );
  assert.deepEqual(
    a.causes.map((c) => c.kind),
    ['unexplained'],
  );
  assert.match(a.causes[0]!.evidence, /legacy uWS build/);
});

test('loss nothing accounts for is unexplained, also for a server without counters', () => {
  const a = attributeLoss(
    evidence({ lost: 77, server: null, generator: generator({ atWindowEnd: breakdown({ inGaps: 77, openWithLoss: 1, openWithGaps: 1 }) }) }),
  );
  assert.deepEqual(
    a.causes.map((c) => [c.kind, c.count]),
    [['unexplained', 77]],
  );
  assert.match(a.causes[0]!.evidence, /keeps no counters/);
});

test('causes always add up to the loss, largest first', () => {
  const a = attributeLoss(
    evidence({
      lost: 1000,
      closeReasons: { 'closed by peer': 1 },
      server: server({ abnormalCloses: 1, slowConsumerDrops: 5 }),
      generator: generator({
        atWindowEnd: breakdown({ atTail: 700, onClosed: 200, closedWithLoss: 1, inGaps: 100 }),
        recount: recount({
          late: 650,
          lost: 350,
          loss: breakdown({ atTail: 50, onClosed: 200, closedWithLoss: 1, inGaps: 100 }),
          closeReasons: { 'closed by peer': 1 },
        }),
      }),
    }),
  );
  assert.equal(sum(a), 1000);
  assert.deepEqual(
    a.causes.map((c) => c.kind),
    ['late', 'server-cut', 'server-dropped'],
  );
});

test("a row's causes over its runs", () => {
  const none = { loss: { lost: 0, causes: [], verdict: 'no loss' } };
  const late = { loss: { lost: 5, causes: [{ kind: 'late' as const, side: 'generator' as const, count: 5, evidence: '' }], verdict: '' } };
  const errored = { loss: { lost: 0, causes: [], verdict: 'x' }, error: 'skipped' };
  assert.equal(summarizeCauses([none, late, none, errored]), 'generator fell behind 5 (1 of 3 runs)');
  assert.equal(summarizeCauses([none]), '');
});
