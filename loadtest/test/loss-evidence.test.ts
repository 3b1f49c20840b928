/** Unit tests for reading the loss evidence: Prometheus counters, `ss` queues, Redis CLIENT LIST and log. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterDelta, countersFromMetrics, parsePrometheus, sumCounters } from '../loss/server-counters.js';
import { parseSocketQueues } from '../loss/socket-queues.js';
import { countOutputLimitKills, pubsubOutput, sumRedisViews } from '../loss/redis-view.js';

const METRICS = `# HELP broadcaster_slow_consumer_drops_total Frames not sent
# TYPE broadcaster_slow_consumer_drops_total counter
broadcaster_slow_consumer_drops_total 12
broadcaster_abnormal_closes_total 3
broadcaster_messages_in_total{transport="ws"} 4
broadcaster_messages_in_total{transport="http"} 6
broadcaster_gaps_detected_total 2
broadcaster_gaps_repaired_total 1
broadcaster_resyncs_sent_total 1
broadcaster_backpressure_bytes 2048
broadcaster_process_cpu_seconds_total 1.5
broadcaster_build_info{uws_build="legacy",uws_version="20.30.0-unofficial.0",node_version="v20.20.2",node_abi="115",glibc="2.36"} 1
not a metric line
broadcaster_bad_value_total NaN-ish
`;

test('Prometheus text: label sets are summed, comments and bad lines skipped', () => {
  const m = parsePrometheus(METRICS);
  assert.equal(m.get('broadcaster_messages_in_total'), 10);
  assert.equal(m.get('broadcaster_slow_consumer_drops_total'), 12);
  assert.equal(m.has('not'), false);
  assert.equal(m.has('broadcaster_bad_value_total'), false);
});

test('the loss counters of a process, and their sum over processes', () => {
  const one = countersFromMetrics(METRICS);
  assert.equal(one.processes, 1);
  assert.equal(one.slowConsumerDrops, 12);
  assert.equal(one.abnormalCloses, 3);
  assert.equal(one.gapsDetected, 2);
  assert.equal(one.resyncsSent, 1);
  assert.equal(one.backpressureBytes, 2048);
  assert.equal(one.brokerReconnects, 0, 'a counter absent from the text is 0');
  assert.equal(one.legacyBuildProcesses, 1);
  assert.equal(countersFromMetrics('broadcaster_build_info{uws_build="current"} 1\n').legacyBuildProcesses, 0);
  const two = sumCounters([one, one]);
  assert.equal(two.processes, 2);
  assert.equal(two.slowConsumerDrops, 24);
  assert.equal(two.backpressureBytes, 4096);
  assert.equal(two.legacyBuildProcesses, 2);
});

test('counters of servers that served earlier runs count from the start of this one; the gauge is taken as is', () => {
  const before = countersFromMetrics('broadcaster_abnormal_closes_total 3000\nbroadcaster_backpressure_bytes 10\n');
  const after = countersFromMetrics('broadcaster_abnormal_closes_total 3002\nbroadcaster_slow_consumer_drops_total 5\nbroadcaster_backpressure_bytes 7\n');
  const d = counterDelta(after, before);
  assert.equal(d.abnormalCloses, 2);
  assert.equal(d.slowConsumerDrops, 5);
  assert.equal(d.backpressureBytes, 7);
  assert.equal(counterDelta(after, null), after);
});

test('ss output: server-side send queues and client-side receive queues of the given ports', () => {
  const withState = [
    'ESTAB 0      4096   127.0.0.1:21000 127.0.0.1:40001',
    'ESTAB 8192   0      127.0.0.1:40001 127.0.0.1:21000',
    'ESTAB 5      7      127.0.0.1:6379 127.0.0.1:50000',
  ].join('\n');
  assert.deepEqual(parseSocketQueues(withState, [21000]), { connections: 1, serverSendQueue: 4096, clientReceiveQueue: 8192 });
  const withoutState = ['Recv-Q Send-Q Local Peer', '0 100 127.0.0.1:21000 127.0.0.2:40002', '300 0 [::ffff:127.0.0.2]:40002 127.0.0.1:21000'].join('\n');
  assert.deepEqual(parseSocketQueues(withoutState, [21000, 21001]), { connections: 1, serverSendQueue: 100, clientReceiveQueue: 300 });
  assert.deepEqual(parseSocketQueues('', [21000]), { connections: 0, serverSendQueue: 0, clientReceiveQueue: 0 });
});

test('CLIENT LIST: pub/sub clients (channels, patterns, shard channels) and their largest output memory', () => {
  const list = [
    'id=3 addr=127.0.0.1:5000 name= flags=N sub=0 psub=0 ssub=0 omem=0 cmd=client|list',
    'id=4 addr=127.0.0.1:5001 name= flags=P sub=1 psub=0 ssub=0 omem=20480 cmd=subscribe',
    'id=5 addr=127.0.0.1:5002 name= flags=P sub=0 psub=1 ssub=0 omem=0 cmd=psubscribe',
    'id=6 addr=127.0.0.1:5003 name= flags=N sub=0 psub=0 ssub=2 omem=512 cmd=ssubscribe',
  ].join('\n');
  assert.deepEqual(pubsubOutput(list), { pubsubClients: 3, maxPubsubOutputBytes: 20480 });
});

test("Redis's output-limit close lines are counted, sync and async wording", () => {
  const log = [
    '1:M 04 Dec 2026 17:00:00.000 * Ready to accept connections',
    '1:M 04 Dec 2026 17:00:01.000 # Client id=4 addr=127.0.0.1:5001 closed for overcoming of output buffer limits.',
    '1:M 04 Dec 2026 17:00:02.000 # Client id=7 addr=127.0.0.1:5009 scheduled to be closed ASAP for overcoming of output buffer limits.',
  ].join('\n');
  assert.equal(countOutputLimitKills(log), 2);
  const sum = sumRedisViews([
    { nodes: 1, outputBufferKills: 2, pubsubClients: 1, maxPubsubOutputBytes: 10 },
    { nodes: 1, outputBufferKills: 0, pubsubClients: 2, maxPubsubOutputBytes: 30 },
  ]);
  assert.deepEqual(sum, { nodes: 2, outputBufferKills: 2, pubsubClients: 3, maxPubsubOutputBytes: 30 });
});
