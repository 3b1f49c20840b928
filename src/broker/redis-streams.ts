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
  bcHistoryBuffer(stream: string, meta: string, since: number, limit: number, metaTtl: number, epoch: string, size: number): Promise<Array<Buffer | number>>;
}

/** Publications waiting for their channel's next script call: one, or a batch that must stay together (consecutive offsets). */
interface Waiting {
  elements: Buffer[];
  /** Called with the position of the last of `elements`. */
  resolve: (position: StreamPosition) => void;
  reject: (err: Error) => void;
}

/** The publications of one channel waiting to be sent, and whether a script call of it is unanswered. */
interface ChannelQueue {
  waiting: Waiting[];
  inFlight: boolean;
  /** Listed in `due` for the end of this turn. */
  due: boolean;
}

/** Most publications one script call carries (the rest go in the next call). */
export const MAX_SCRIPT_BATCH = 512;

/** Most data bytes one script call carries, unless a single publication is larger. */
export const MAX_SCRIPT_BATCH_BYTES = 512 * 1024;

/**
 * Removes and returns the first waiting entries that fit one script call: at least one, whole
 * entries only, within MAX_SCRIPT_BATCH publications and MAX_SCRIPT_BATCH_BYTES.
 */
function takeBatch(waiting: Waiting[]): Waiting[] {
  let bytes = 0;
  let count = 0;
  let n = 0;
  for (; n < waiting.length; n++) {
    const entry = waiting[n]!;
    for (const element of entry.elements) bytes += element.length;
    count += entry.elements.length;
    if (n > 0 && (count > MAX_SCRIPT_BATCH || bytes > MAX_SCRIPT_BATCH_BYTES)) break;
  }
  return waiting.splice(0, n);
}

/**
 * Publishing and history reads on Redis for one prefix: offset, history and PUBLISH in one Lua
 * script call; plain PUBLISH for channels that keep no history. Each channel has at most one
 * script call unanswered: publications made meanwhile (concurrent HTTP requests) wait for its
 * answer and then go together in the next call (the batch script: each keeps its own offset, in
 * call order). A publication on an idle channel is sent at the end of its event-loop turn, with
 * the others of that turn, so a low rate pays no extra latency while a high one costs Redis
 * one call per round trip instead of one per publication.
 */
export class RedisStreams {
  private readonly scripted: ScriptedRedis;
  /** Rejecters of commands sent and not answered yet. */
  private readonly unanswered = new Set<(err: Error) => void>();
  /** Channels with publications waiting or a script call unanswered. */
  private readonly queues = new Map<string, ChannelQueue>();
  /** Channels to send at the end of this turn. */
  private due: string[] = [];
  private flushScheduled = false;
  /** The epoch a new history would get; replaced once a channel took it. */
  private epochCandidate = newEpoch();

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
    return this.enqueue(channel, [dataElement]);
  }

  /** Adds publications (kept together, in order) to their channel's next script call. */
  private enqueue(channel: string, elements: Buffer[]): Promise<StreamPosition> {
    return new Promise<StreamPosition>((resolve, reject) => {
      let queue = this.queues.get(channel);
      if (queue === undefined) {
        queue = { waiting: [], inFlight: false, due: false };
        this.queues.set(channel, queue);
      }
      queue.waiting.push({ elements, resolve, reject });
      // While a call is unanswered, its answer sends what waits.
      if (queue.inFlight || queue.due) return;
      queue.due = true;
      this.due.push(channel);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends the script calls of this turn's channels. */
  private flush(): void {
    this.flushScheduled = false;
    const due = this.due;
    this.due = [];
    for (const channel of due) {
      const queue = this.queues.get(channel);
      if (queue === undefined) continue;
      queue.due = false;
      this.send(channel, queue);
    }
  }

  /** Sends one script call with what waits on `channel` (the single or the batch script). */
  private send(channel: string, queue: ChannelQueue): void {
    const batch = takeBatch(queue.waiting);
    if (batch.length === 0) {
      this.queues.delete(channel);
      return;
    }
    queue.inFlight = true;
    const policy = this.policies.for(channel);
    const stream = `${this.prefix}h:${channel}`;
    const meta = `${this.prefix}m:${channel}`;
    const metaTtl = Math.max(this.metaTtl, policy.ttl);
    const candidate = this.epochCandidate;
    const elements = batch.length === 1 ? batch[0]!.elements : batch.flatMap((w) => w.elements);
    const call =
      elements.length === 1
        ? () => this.scripted.bcPublish(stream, meta, elements[0]!, policy.size, policy.ttl, metaTtl, this.prefix + channel, candidate)
        : () => this.scripted.bcPublishMany(stream, meta, policy.size, policy.ttl, metaTtl, this.prefix + channel, candidate, ...elements);
    this.answered(call).then(
      ([last, epoch]) => {
        const epochText = String(epoch);
        if (epochText === candidate) this.epochCandidate = newEpoch();
        // Offsets were given in order: the last entry ends at `last`.
        let end = Number(last) - elements.length;
        for (const w of batch) {
          end += w.elements.length;
          w.resolve({ offset: end, epoch: epochText });
        }
        queue.inFlight = false;
        this.send(channel, queue);
      },
      (err: Error) => {
        for (const w of batch) w.reject(err);
        queue.inFlight = false;
        this.send(channel, queue);
      },
    );
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
    // Joins the channel's next script call as one unit: consecutive offsets, in order.
    return this.enqueue(channel, elements);
  }

  /** Reads publications after `since` (at most `limit`); null when the channel keeps no history. */
  async history(channel: string, since: number, limit: number): Promise<HistoryPage | null> {
    const policy = this.policies.for(channel);
    if (policy.size === 0) return null;
    const candidate = this.epochCandidate;
    const reply = await this.answered(() =>
      this.scripted.bcHistoryBuffer(
        `${this.prefix}h:${channel}`,
        `${this.prefix}m:${channel}`,
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
