import type { Cluster } from 'ioredis';
import type { HistoryPolicies } from '../../config/history-policy';
import { encodeData, encodeUnsequencedEnvelope } from '../../protocol/envelope';
import type { HistoryEntry, HistoryPage, StreamPosition } from '../broker';
import { newEpoch } from '../epoch';
import { HISTORY_SCRIPT, PUBLISH_SCRIPT } from '../redis-scripts';
import type { ClusterKeys } from './cluster-keys';

/** The single-Redis publish script with its fan-out made sharded: `SPUBLISH` on the channel's shard channel. */
export const SHARDED_PUBLISH_SCRIPT = PUBLISH_SCRIPT.replace("redis.call('PUBLISH', ARGV[5], envelope)", "redis.call('SPUBLISH', ARGV[5], envelope)");
if (SHARDED_PUBLISH_SCRIPT === PUBLISH_SCRIPT) throw new Error('redis-scripts.ts no longer fans out with PUBLISH ARGV[5]: update SHARDED_PUBLISH_SCRIPT');

/** The scripted commands defined on a cluster connection. */
interface ScriptedCluster {
  bcSpublish(stream: string, meta: string, data: Buffer, size: number, ttl: number, metaTtl: number, channel: string, epoch: string): Promise<[number, string]>;
  bcHistoryBuffer(stream: string, meta: string, since: number, limit: number, metaTtl: number, epoch: string, size: number): Promise<Array<Buffer | number>>;
}

/**
 * Publishing and history reads on a Redis Cluster: the scripts of the single-Redis broker run on
 * the master of the channel's slot (stream, meta and shard channel share one partition tag);
 * channels without history get a plain `SPUBLISH`.
 */
export class ClusterStreams {
  private readonly scripted: ScriptedCluster;

  constructor(
    private readonly conn: Cluster,
    private readonly keys: ClusterKeys,
    private readonly policies: HistoryPolicies,
    private readonly metaTtl: number,
  ) {
    conn.defineCommand('bcSpublish', { numberOfKeys: 2, lua: SHARDED_PUBLISH_SCRIPT });
    conn.defineCommand('bcHistory', { numberOfKeys: 2, lua: HISTORY_SCRIPT });
    this.scripted = conn as unknown as ScriptedCluster;
  }

  /** Publishes `data` (bytes as bin, strings as str); resolves with its position, or null without history. */
  async publish(channel: string, data: Uint8Array | string): Promise<StreamPosition | null> {
    const policy = this.policies.for(channel);
    const dataElement = encodeData(data);
    if (policy.size === 0) {
      await this.conn.spublish(this.keys.shardChannel(channel), encodeUnsequencedEnvelope(dataElement));
      return null;
    }
    const [offset, epoch] = await this.scripted.bcSpublish(
      this.keys.stream(channel),
      this.keys.meta(channel),
      dataElement,
      policy.size,
      policy.ttl,
      Math.max(this.metaTtl, policy.ttl),
      this.keys.shardChannel(channel),
      newEpoch(),
    );
    return { offset: Number(offset), epoch: String(epoch) };
  }

  /**
   * Publishes several data items on one channel in order, each atomic with its own offset (one
   * script call each: the items may wait on a failover between them); resolves with the last
   * position, or null without history.
   */
  async publishMany(channel: string, data: ReadonlyArray<Uint8Array | string>): Promise<StreamPosition | null> {
    let last: StreamPosition | null = null;
    for (const item of data) last = await this.publish(channel, item);
    return last;
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
