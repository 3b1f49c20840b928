import type { Cluster, Redis } from 'ioredis';
import type { HistoryPolicies } from '../config/history-policy';
import { DEFAULT_IDEMPOTENCY_TTL } from '../config/options';
import { encodeData, encodeUnsequencedEnvelope } from '../protocol/envelope';
import type { HistoryEntry, HistoryPage, PublishOptions, PublishResult } from './broker';
import { ChannelCalls, type Waiting } from './channel-calls';
import { newEpoch } from './epoch';
import { idempotentFanoutScript, idempotentPublishScript, onceResult, storedPosition } from './idempotent-scripts';
import { HISTORY_SCRIPT, PUBLISH_MANY_SCRIPT, PUBLISH_SCRIPT, withFanout } from './redis-scripts';
import { LuaScript } from './lua-script';
import { prefixNames, type StreamNames } from './stream-names';

/** The scripted commands defined on a connection (those not in a channel's ordered calls). */
interface ScriptedRedis {
  bcHistoryBuffer(stream: string, meta: string, since: number, limit: number, metaTtl: number, epoch: string, size: number): Promise<Array<Buffer | number>>;
  bcFanoutOnce(key: string, channel: string, envelope: Buffer, ttl: number): Promise<string | null>;
}

/**
 * Script calls of one channel unanswered at a time on one Redis: its one publisher connection
 * runs them in the order sent, so offsets follow call order, and a second call overlaps the
 * first's round trip. On a Redis Cluster one: a redirected call is sent again by ioredis, and two
 * could then run out of order.
 */
export const CALLS_IN_FLIGHT_ONE_REDIS = 2;

/**
 * Publishing and history reads on one Redis or a Redis Cluster: offset, history and (S)PUBLISH
 * in one Lua script call; plain (S)PUBLISH for channels that keep no history. On a cluster every
 * name of a channel carries its partition tag (`ClusterKeys`), so each script runs on the master
 * of the channel's slot. The script calls of each channel go through `ChannelCalls`: at most
 * CALLS_IN_FLIGHT_ONE_REDIS unanswered on one Redis (one on a cluster), publications made
 * meanwhile (concurrent HTTP requests) going together in the next call (the batch script: each
 * keeps its own offset, in call order).
 */
export class RedisStreams {
  private readonly scripted: ScriptedRedis;
  /** Rejecters of commands sent and not answered yet. */
  private readonly unanswered = new Set<(err: Error) => void>();
  /** Each channel's publish script calls, in order. */
  private readonly calls: ChannelCalls;
  /** The publish scripts: for one publication, for several, for publications with idempotency keys. */
  private readonly scripts: { one: LuaScript; many: LuaScript; keyed: LuaScript };
  /** The epoch a new history would get; replaced once a channel took it. */
  private epochCandidate = newEpoch();

  private readonly names: StreamNames;

  /**
   * `names`: a key prefix (one Redis: `<prefix>h:<channel>`, …, PUBLISH) or the names of a Redis
   * Cluster (`ClusterKeys`, SPUBLISH). On one Redis the connection must not resend unanswered
   * commands (`autoResendUnfulfilledCommands: false`): they are failed when it drops. On a cluster
   * `failLostReplies` does that.
   */
  constructor(
    private readonly conn: Redis | Cluster,
    names: string | StreamNames,
    private readonly policies: HistoryPolicies,
    private readonly metaTtl: number,
    /** Seconds the result of a publish with an idempotency key is kept. */
    private readonly idempotencyTtl = DEFAULT_IDEMPOTENCY_TTL,
  ) {
    this.names = typeof names === 'string' ? prefixNames(names) : names;
    const fanout = this.names.fanoutCommand;
    this.scripts = {
      one: new LuaScript(withFanout(PUBLISH_SCRIPT, fanout)),
      many: new LuaScript(withFanout(PUBLISH_MANY_SCRIPT, fanout)),
      keyed: new LuaScript(idempotentPublishScript(fanout)),
    };
    this.calls = new ChannelCalls(
      (channel, batch, elements, withText) =>
        batch[0]!.keys === undefined ? this.callPlain(channel, elements, withText) : this.callKeyed(channel, batch, elements, withText),
      fanout === 'PUBLISH' ? CALLS_IN_FLIGHT_ONE_REDIS : 1,
    );
    conn.defineCommand('bcHistory', { numberOfKeys: 2, lua: HISTORY_SCRIPT });
    conn.defineCommand('bcFanoutOnce', { numberOfKeys: 1, lua: idempotentFanoutScript(fanout) });
    this.scripted = conn as unknown as ScriptedRedis;
    // ioredis would leave the promises of commands dropped unanswered pending: fail them when
    // the connection drops (a cluster's node connections: failLostReplies).
    if (fanout === 'SPUBLISH') return;
    conn.on('close', () => {
      const rejecters = [...this.unanswered];
      this.unanswered.clear();
      const err = new Error('the Redis connection dropped before answering (a publication may or may not have been made)');
      for (const reject of rejecters) reject(err);
    });
  }

  /** Runs `command`; rejects if the connection drops before its answer. */
  private answered<T>(command: () => Promise<T>): Promise<T> {
    if (this.names.fanoutCommand === 'SPUBLISH') return command();
    return new Promise<T>((resolve, reject) => {
      this.unanswered.add(reject);
      command()
        .then(resolve, reject)
        .finally(() => this.unanswered.delete(reject));
    });
  }

  /** Publishes `data` (bytes as bin, strings as str); resolves with its position (null without history), or the first result of its idempotency key. */
  async publish(channel: string, data: Uint8Array | string, options?: PublishOptions): Promise<PublishResult> {
    const policy = this.policies.for(channel);
    const dataElement = encodeData(data);
    const key = options?.idempotencyKey;
    if (policy.size === 0) return this.fanout(channel, dataElement, key);
    const [result] = await this.calls.enqueue(channel, [dataElement], key === undefined ? undefined : [key]);
    return result!;
  }

  /** PUBLISH for a channel without history; with an idempotency key, the small script that publishes once. */
  private async fanout(channel: string, dataElement: Buffer, key: string | undefined): Promise<PublishResult> {
    const envelope = encodeUnsequencedEnvelope(dataElement);
    const to = this.names.fanout(channel);
    if (key === undefined) {
      await this.answered(() => (this.names.fanoutCommand === 'PUBLISH' ? this.conn.publish(to, envelope) : this.conn.spublish(to, envelope)));
      return { position: null, repeated: false };
    }
    const earlier = await this.answered(() => this.scripted.bcFanoutOnce(this.names.idempotency(channel, key), to, envelope, this.idempotencyTtl));
    return earlier === null ? { position: null, repeated: false } : { position: storedPosition(earlier), repeated: true };
  }

  /** The single or the batch script for `elements`: consecutive offsets, in order. */
  private async callPlain(channel: string, elements: Buffer[], withText: boolean): Promise<PublishResult[]> {
    const policy = this.policies.for(channel);
    const stream = this.names.stream(channel);
    const meta = this.names.meta(channel);
    const to = this.names.fanout(channel);
    const metaTtl = Math.max(this.metaTtl, policy.ttl);
    const candidate = this.epochCandidate;
    const call =
      elements.length === 1
        ? () => this.scripts.one.run(this.conn, withText, 2, [stream, meta, elements[0]!, policy.size, policy.ttl, metaTtl, to, candidate])
        : () => this.scripts.many.run(this.conn, withText, 2, [stream, meta, policy.size, policy.ttl, metaTtl, to, candidate, ...elements]);
    const [last, epoch] = (await this.answered(call)) as [number, string];
    const epochText = String(epoch);
    if (epochText === candidate) this.epochCandidate = newEpoch();
    // Offsets were given in order, ending at `last`.
    const first = Number(last) - elements.length + 1;
    return elements.map((_, i) => ({ position: { offset: first + i, epoch: epochText }, repeated: false }));
  }

  /**
   * The idempotent script for `elements` (of `batch`, with their keys): an element whose key
   * Redis still keeps answers that result; the others are published in order.
   */
  private async callKeyed(channel: string, batch: readonly Waiting[], elements: Buffer[], withText: boolean): Promise<PublishResult[]> {
    const policy = this.policies.for(channel);
    const keys = [this.names.stream(channel), this.names.meta(channel)];
    // Each element's key as its index among KEYS from the third (0: none); each distinct key once.
    const index = new Map<string, number>();
    const pairs: Array<number | Buffer> = [];
    let e = 0;
    for (const w of batch) {
      for (const key of w.keys!) {
        let k = 0;
        if (key !== undefined) {
          k = index.get(key) ?? keys.push(this.names.idempotency(channel, key)) - 2;
          index.set(key, k);
        }
        pairs.push(k, elements[e++]!);
      }
    }
    const candidate = this.epochCandidate;
    const metaTtl = Math.max(this.metaTtl, policy.ttl);
    const reply = (await this.answered(() =>
      this.scripts.keyed.run(this.conn, withText, keys.length, [
        ...keys,
        policy.size,
        policy.ttl,
        metaTtl,
        this.names.fanout(channel),
        candidate,
        this.idempotencyTtl,
        ...pairs,
      ]),
    )) as Array<string | number>;
    const epoch = String(reply[0]);
    if (epoch === candidate) this.epochCandidate = newEpoch();
    return elements.map((_, i) => onceResult(reply[i + 1]!, epoch));
  }

  /**
   * Publishes several data on one channel in order, in one call (`options[i]` applies to
   * `data[i]`): with history, one script gives them consecutive offsets (each stored and fanned
   * out with its own; a repeat of an idempotency key gets none); resolves with one result each.
   */
  async publishMany(channel: string, data: ReadonlyArray<Uint8Array | string>, options?: ReadonlyArray<PublishOptions | undefined>): Promise<PublishResult[]> {
    const policy = this.policies.for(channel);
    const elements = data.map(encodeData);
    const keys = options?.some((o) => o?.idempotencyKey !== undefined) ? elements.map((_, i) => options[i]?.idempotencyKey) : undefined;
    if (policy.size === 0) {
      // Each its own command; a repeated key in the batch finds the first one's key (commands run in order).
      return Promise.all(elements.map((element, i) => this.fanout(channel, element, keys?.[i])));
    }
    // Joins the channel's next script call as one unit: consecutive offsets, in order.
    return this.calls.enqueue(channel, elements, keys);
  }

  /** Reads publications after `since` (at most `limit`); null when the channel keeps no history. */
  async history(channel: string, since: number, limit: number): Promise<HistoryPage | null> {
    const policy = this.policies.for(channel);
    if (policy.size === 0) return null;
    const candidate = this.epochCandidate;
    const reply = await this.answered(() =>
      this.scripted.bcHistoryBuffer(
        this.names.stream(channel),
        this.names.meta(channel),
        since,
        limit,
        Math.max(this.metaTtl, policy.ttl),
        candidate,
        policy.size,
      ),
    );
    const epoch = String(reply[0]);
    if (epoch === candidate) this.epochCandidate = newEpoch();
    const publications: HistoryEntry[] = [];
    for (let i = 2; i + 1 < reply.length; i += 2) {
      const id = String(reply[i]);
      publications.push({ offset: Number(id.slice(0, id.indexOf('-'))), envelope: reply[i + 1] as Buffer });
    }
    // Integer replies arrive as numbers, bulk strings as Buffers.
    return { epoch, top: Number(reply[1]), publications };
  }
}
