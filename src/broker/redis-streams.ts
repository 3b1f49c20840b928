import type Redis from 'ioredis';
import type { HistoryPolicies } from '../config/history-policy';
import { encodeData, encodeUnsequencedEnvelope } from '../protocol/envelope';
import type { HistoryEntry, HistoryPage, StreamPosition } from './broker';
import { newEpoch } from './epoch';
import { HISTORY_SCRIPT, PUBLISH_MANY_SCRIPT, PUBLISH_SCRIPT } from './redis-scripts';

/** The scripted commands defined on a connection. */
interface ScriptedRedis {
  bcPublish(stream: string, meta: string, data: Buffer, size: number, ttl: number, metaTtl: number, channel: string, epoch: string): Promise<[number, string]>;
  bcPublishMany(
    stream: string,
    meta: string,
    size: number,
    ttl: number,
    metaTtl: number,
    channel: string,
    epoch: string,
    ...data: Buffer[]
  ): Promise<[number, string]>;
  bcHistoryBuffer(stream: string, meta: string, since: number, limit: number, metaTtl: number, epoch: string): Promise<Array<Buffer | number>>;
}

/** A publication waiting for this turn's script calls. */
interface Waiting {
  element: Buffer;
  resolve: (position: StreamPosition) => void;
  reject: (err: Error) => void;
}

/**
 * Publishing and history reads on Redis for one prefix: offset, history and PUBLISH in one Lua
 * script per publication; plain PUBLISH for channels that keep no history. Publications of one
 * channel made in the same event-loop turn (concurrent HTTP requests) share one script call
 * (the batch script: each keeps its own offset, in call order), sent at the end of the turn.
 */
export class RedisStreams {
  private readonly scripted: ScriptedRedis;
  /** Rejecters of commands sent and not answered yet. */
  private readonly unanswered = new Set<(err: Error) => void>();
  /** Publications of this turn by channel, sent by flush(). */
  private waiting = new Map<string, Waiting[]>();
  private flushScheduled = false;

  constructor(
    private readonly conn: Redis,
    private readonly prefix: string,
    private readonly policies: HistoryPolicies,
    private readonly metaTtl: number,
  ) {
    conn.defineCommand('bcPublish', { numberOfKeys: 2, lua: PUBLISH_SCRIPT });
    conn.defineCommand('bcPublishMany', { numberOfKeys: 2, lua: PUBLISH_MANY_SCRIPT });
    conn.defineCommand('bcHistory', { numberOfKeys: 2, lua: HISTORY_SCRIPT });
    this.scripted = conn as unknown as ScriptedRedis;
    // The connection does not resend unanswered commands (autoResendUnfulfilledCommands: false),
    // and ioredis would leave their promises pending: fail them when it drops.
    conn.on('close', () => {
      const rejecters = [...this.unanswered];
      this.unanswered.clear();
      const err = new Error('the Redis connection dropped before answering (a publication may or may not have been made)');
      for (const reject of rejecters) reject(err);
    });
  }

  /** Runs `command`; rejects if the connection drops before its answer. */
  private answered<T>(command: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.unanswered.add(reject);
      command()
        .then(resolve, reject)
        .finally(() => this.unanswered.delete(reject));
    });
  }

  /** Publishes `data` (bytes as bin, strings as str); resolves with its position, or null without history. */
  async publish(channel: string, data: Uint8Array | string): Promise<StreamPosition | null> {
    const policy = this.policies.for(channel);
    const dataElement = encodeData(data);
    if (policy.size === 0) {
      await this.answered(() => this.conn.publish(this.prefix + channel, encodeUnsequencedEnvelope(dataElement)));
      return null;
    }
    return this.enqueue(channel, dataElement);
  }

  /** Adds one publication to this turn's script call of `channel`. */
  private enqueue(channel: string, dataElement: Buffer): Promise<StreamPosition> {
    return new Promise<StreamPosition>((resolve, reject) => {
      const list = this.waiting.get(channel);
      if (list === undefined) this.waiting.set(channel, [{ element: dataElement, resolve, reject }]);
      else list.push({ element: dataElement, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends this turn's publications: one script call per channel (the single or the batch script). */
  private flush(): void {
    this.flushScheduled = false;
    const waiting = this.waiting;
    this.waiting = new Map();
    for (const [channel, list] of waiting) {
      const policy = this.policies.for(channel);
      const stream = `${this.prefix}h:${channel}`;
      const meta = `${this.prefix}m:${channel}`;
      const metaTtl = Math.max(this.metaTtl, policy.ttl);
      const call =
        list.length === 1
          ? () => this.scripted.bcPublish(stream, meta, list[0]!.element, policy.size, policy.ttl, metaTtl, this.prefix + channel, newEpoch())
          : () => this.scripted.bcPublishMany(stream, meta, policy.size, policy.ttl, metaTtl, this.prefix + channel, newEpoch(), ...list.map((w) => w.element));
      this.answered(call).then(
        ([last, epoch]) => {
          const top = Number(last);
          for (const [k, w] of list.entries()) w.resolve({ offset: top - list.length + 1 + k, epoch: String(epoch) });
        },
        (err: Error) => {
          for (const w of list) w.reject(err);
        },
      );
    }
  }

  /**
   * Publishes several data on one channel in order, in one call: with history, one script gives
   * them consecutive offsets (each stored and fanned out with its own); resolves with the position
   * of the last, or null without history.
   */
  async publishMany(channel: string, data: ReadonlyArray<Uint8Array | string>): Promise<StreamPosition | null> {
    const policy = this.policies.for(channel);
    const elements = data.map(encodeData);
    if (policy.size === 0) {
      const key = this.prefix + channel;
      await Promise.all(elements.map((element) => this.answered(() => this.conn.publish(key, encodeUnsequencedEnvelope(element)))));
      return null;
    }
    // Joins this turn's publications of the channel, in call order: one batch script call for all.
    const positions = await Promise.all(elements.map((element) => this.enqueue(channel, element)));
    return positions[positions.length - 1] ?? null;
  }

  /** Reads publications after `since` (at most `limit`); null when the channel keeps no history. */
  async history(channel: string, since: number, limit: number): Promise<HistoryPage | null> {
    const policy = this.policies.for(channel);
    if (policy.size === 0) return null;
    const reply = await this.answered(() =>
      this.scripted.bcHistoryBuffer(`${this.prefix}h:${channel}`, `${this.prefix}m:${channel}`, since, limit, Math.max(this.metaTtl, policy.ttl), newEpoch()),
    );
    const publications: HistoryEntry[] = [];
    for (let i = 2; i + 1 < reply.length; i += 2) {
      const id = String(reply[i]);
      publications.push({ offset: Number(id.slice(0, id.indexOf('-'))), envelope: reply[i + 1] as Buffer });
    }
    // Integer replies arrive as numbers, bulk strings as Buffers.
    return { epoch: String(reply[0]), top: Number(reply[1]), publications };
  }
}
