import type { Cluster } from 'ioredis';
import type { HistoryPolicies } from '../../config/history-policy';
import { DEFAULT_IDEMPOTENCY_TTL } from '../../config/options';
import { encodeData, encodeUnsequencedEnvelope } from '../../protocol/envelope';
import type { HistoryEntry, HistoryPage, PublishOptions, PublishResult } from '../broker';
import { newEpoch } from '../epoch';
import { idempotentFanoutScript, idempotentPublishScript, onceResult, storedPosition } from '../idempotent-scripts';
import { HISTORY_SCRIPT, PUBLISH_SCRIPT } from '../redis-scripts';
import type { ClusterKeys } from './cluster-keys';

/** The single-Redis publish script with its fan-out made sharded: `SPUBLISH` on the channel's shard channel. */
export const SHARDED_PUBLISH_SCRIPT = PUBLISH_SCRIPT.replace("redis.call('PUBLISH', ARGV[5], envelope)", "redis.call('SPUBLISH', ARGV[5], envelope)");
if (SHARDED_PUBLISH_SCRIPT === PUBLISH_SCRIPT) throw new Error('redis-scripts.ts no longer fans out with PUBLISH ARGV[5]: update SHARDED_PUBLISH_SCRIPT');

/** The scripted commands defined on a cluster connection. */
interface ScriptedCluster {
  bcSpublish(stream: string, meta: string, data: Buffer, size: number, ttl: number, metaTtl: number, channel: string, epoch: string): Promise<[number, string]>;
  bcHistoryBuffer(stream: string, meta: string, since: number, limit: number, metaTtl: number, epoch: string, size: number): Promise<Array<Buffer | number>>;
  bcSpublishOnce(...args: Array<string | number | Buffer>): Promise<Array<string | number>>;
  bcSfanoutOnce(key: string, channel: string, envelope: Buffer, ttl: number): Promise<string | null>;
}

/**
 * Publishing and history reads on a Redis Cluster: the scripts of the single-Redis broker run on
 * the master of the channel's slot (stream, meta and shard channel share one partition tag);
 * channels without history get a plain `SPUBLISH`. A publication with an idempotency key runs the
 * idempotent scripts with `SPUBLISH`, its key on the channel's slot.
 */
export class ClusterStreams {
  private readonly scripted: ScriptedCluster;

  constructor(
    private readonly conn: Cluster,
    private readonly keys: ClusterKeys,
    private readonly policies: HistoryPolicies,
    private readonly metaTtl: number,
    /** Seconds the result of a publish with an idempotency key is kept. */
    private readonly idempotencyTtl = DEFAULT_IDEMPOTENCY_TTL,
  ) {
    conn.defineCommand('bcSpublish', { numberOfKeys: 2, lua: SHARDED_PUBLISH_SCRIPT });
    conn.defineCommand('bcSpublishOnce', { numberOfKeys: 3, lua: idempotentPublishScript('SPUBLISH') });
    conn.defineCommand('bcSfanoutOnce', { numberOfKeys: 1, lua: idempotentFanoutScript('SPUBLISH') });
    conn.defineCommand('bcHistory', { numberOfKeys: 2, lua: HISTORY_SCRIPT });
    this.scripted = conn as unknown as ScriptedCluster;
  }

  /** Publishes `data` (bytes as bin, strings as str); resolves with its position (null without history), or the first result of its idempotency key. */
  async publish(channel: string, data: Uint8Array | string, options?: PublishOptions): Promise<PublishResult> {
    const policy = this.policies.for(channel);
    const dataElement = encodeData(data);
    const key = options?.idempotencyKey;
    if (policy.size === 0) {
      const envelope = encodeUnsequencedEnvelope(dataElement);
      if (key === undefined) {
        await this.conn.spublish(this.keys.shardChannel(channel), envelope);
        return { position: null, repeated: false };
      }
      const earlier = await this.scripted.bcSfanoutOnce(this.keys.idempotency(channel, key), this.keys.shardChannel(channel), envelope, this.idempotencyTtl);
      return earlier === null ? { position: null, repeated: false } : { position: storedPosition(earlier), repeated: true };
    }
    const metaTtl = Math.max(this.metaTtl, policy.ttl);
    if (key !== undefined) {
      const reply = await this.scripted.bcSpublishOnce(
        this.keys.stream(channel),
        this.keys.meta(channel),
        this.keys.idempotency(channel, key),
        policy.size,
        policy.ttl,
        metaTtl,
        this.keys.shardChannel(channel),
        newEpoch(),
        this.idempotencyTtl,
        1,
        dataElement,
      );
      return onceResult(reply[1]!, String(reply[0]));
    }
    const [offset, epoch] = await this.scripted.bcSpublish(
      this.keys.stream(channel),
      this.keys.meta(channel),
      dataElement,
      policy.size,
      policy.ttl,
      metaTtl,
      this.keys.shardChannel(channel),
      newEpoch(),
    );
    return { position: { offset: Number(offset), epoch: String(epoch) }, repeated: false };
  }

  /**
   * Publishes several data items on one channel in order, each atomic with its own offset (one
   * script call each: the items may wait on a failover between them); `options[i]` applies to
   * `data[i]`. Resolves with one result per item.
   */
  async publishMany(channel: string, data: ReadonlyArray<Uint8Array | string>, options?: ReadonlyArray<PublishOptions | undefined>): Promise<PublishResult[]> {
    const results: PublishResult[] = [];
    for (const [i, item] of data.entries()) results.push(await this.publish(channel, item, options?.[i]));
    return results;
  }

  /** Reads publications after `since` (at most `limit`); null when the channel keeps no history. */
  async history(channel: string, since: number, limit: number): Promise<HistoryPage | null> {
    const policy = this.policies.for(channel);
    if (policy.size === 0) return null;
    const reply = await this.scripted.bcHistoryBuffer(
      this.keys.stream(channel),
      this.keys.meta(channel),
      since,
      limit,
      Math.max(this.metaTtl, policy.ttl),
      newEpoch(),
      policy.size,
    );
    const publications: HistoryEntry[] = [];
    for (let i = 2; i + 1 < reply.length; i += 2) {
      const id = String(reply[i]);
      publications.push({ offset: Number(id.slice(0, id.indexOf('-'))), envelope: reply[i + 1] as Buffer });
    }
    return { epoch: String(reply[0]), top: Number(reply[1]), publications };
  }
}
