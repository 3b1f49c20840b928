import { randomBytes } from 'node:crypto';
import type { Cluster } from 'ioredis';
import type { ClusterKeys } from './cluster-keys';
import { keySlot } from './key-slot';

/** Most partitions that get a probe channel; beyond it, evenly spaced partitions stand for the rest. */
export const MAX_PROBED_PARTITIONS = 256;

/** First character of a probe's name after the partition tag: not allowed in channel names. */
export const PROBE_MARK = '#';

interface OwnerState {
  /** Probe in flight: its payload and when it went out. */
  pending: { token: string; sentAt: number } | null;
  /** True once a probe went round (SPUBLISH on the master, back on our sharded subscriber). */
  ok: boolean;
  /** Why it is not ok. */
  reason: string;
}

/**
 * End-to-end health of each shard as this process sees it: every `interval` ms, one `SPUBLISH` per
 * master owning probed partitions, on a shard channel of this process only; a shard is healthy
 * once its probe comes back through the sharded subscriber, and unhealthy when a probe is refused,
 * goes unanswered for `timeout` ms, or ioredis reports an error of its node.
 */
export class ShardProbe {
  private readonly id = randomBytes(6).toString('base64url');
  /** Probe shard channel of each probed partition. */
  readonly channels: string[] = [];
  private readonly owners = new Map<string, OwnerState>();
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  /** Called after every probe round in which every shard answered. */
  private roundWaiters: Array<() => void> = [];

  constructor(
    private readonly conn: Cluster,
    keys: ClusterKeys,
    private readonly interval: number,
    private readonly timeout: number,
    private readonly onChange: () => void,
    private readonly onStall: (owner: string, waitedMs: number) => void,
  ) {
    const step = Math.max(1, Math.ceil(keys.partitions / MAX_PROBED_PARTITIONS));
    for (let p = 0; p < keys.partitions; p += step) this.channels.push(keys.shardChannelIn(p, `${PROBE_MARK}probe/${this.id}`));
  }

  /** Starts probing (call once the probe channels are subscribed). */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.tick(), this.interval);
    this.timer.unref();
    this.tick();
  }

  /** Stops probing. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** True when every shard owning probed partitions answered its latest probe. */
  healthy(): boolean {
    if (this.owners.size === 0) return false;
    for (const state of this.owners.values()) if (!state.ok) return false;
    return true;
  }

  /** Why the shards are not healthy, or "ready". */
  reason(): string {
    if (this.owners.size === 0) return 'redis cluster shards not probed yet';
    const bad = [...this.owners].filter(([, s]) => !s.ok);
    if (bad.length === 0) return 'ready';
    return `redis cluster shard ${bad.map(([owner, s]) => `${owner} (${s.reason})`).join(', ')} unreachable`;
  }

  /** Marks `owner` (host:port) unhealthy at once, e.g. when ioredis reports its node failed. */
  fail(owner: string, reason: string): void {
    const state = this.owners.get(owner);
    if (state === undefined || !state.ok) return;
    state.ok = false;
    state.reason = reason;
    this.onChange();
  }

  /** Resolves after the next probe round that every shard answered (started after this call). */
  nextHealthyRound(): Promise<void> {
    return new Promise((resolve) => this.roundWaiters.push(resolve));
  }

  /** Handles a message on a probe channel. */
  received(message: Buffer): void {
    const token = message.toString('latin1');
    for (const state of this.owners.values()) {
      if (state.pending?.token !== token) continue;
      state.pending = null;
      if (!state.ok) {
        state.ok = true;
        state.reason = '';
        this.onChange();
      }
      this.roundDone();
      return;
    }
  }

  private roundDone(): void {
    if (this.roundWaiters.length === 0) return;
    for (const state of this.owners.values()) if (!state.ok || state.pending !== null) return;
    const waiters = this.roundWaiters;
    this.roundWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** The probe channel of each current owner (from ioredis's slot map). */
  private channelByOwner(): Map<string, string> {
    const byOwner = new Map<string, string>();
    for (const channel of this.channels) {
      const owner = this.conn.slots[keySlot(channel)]?.[0];
      if (owner !== undefined && !byOwner.has(owner)) byOwner.set(owner, channel);
    }
    return byOwner;
  }

  /** Probes at once (e.g. right after the probe channels were subscribed). */
  probeNow(): void {
    this.tick();
  }

  private tick(): void {
    if (this.conn.status !== 'ready') return;
    const now = Date.now();
    const byOwner = this.channelByOwner();
    let changed = false;
    for (const owner of [...this.owners.keys()]) {
      if (byOwner.has(owner)) continue;
      this.owners.delete(owner);
      changed = true;
    }
    for (const [owner, channel] of byOwner) {
      let state = this.owners.get(owner);
      if (state === undefined) {
        state = { pending: null, ok: false, reason: 'not probed yet' };
        this.owners.set(owner, state);
        changed = true;
      }
      if (state.pending !== null) {
        const waited = now - state.pending.sentAt;
        if (waited < this.timeout) continue;
        state.pending = null;
        this.onStall(owner, waited);
        if (state.ok) {
          state.ok = false;
          state.reason = `probe unanswered for ${waited} ms`;
          changed = true;
        }
        // The slot map may be stale (a promoted replica, a moved slot): ask the cluster again.
        this.conn.refreshSlotsCache();
      }
      const token = `${this.id}:${++this.seq}`;
      const sent = { token, sentAt: now };
      state.pending = sent;
      const current = state;
      this.conn.spublish(channel, token).then(
        (receivers) => {
          // 0 receivers: our sharded subscriber on that shard is not subscribed (yet); next tick tries again.
          if (Number(receivers) !== 0 || current.pending !== sent) return;
          current.pending = null;
          if (current.ok) {
            current.ok = false;
            current.reason = 'sharded subscriber not subscribed';
            this.onChange();
          }
        },
        (err: Error) => {
          if (current.pending !== sent) return;
          current.pending = null;
          if (current.ok || current.reason !== err.message) {
            current.ok = false;
            current.reason = err.message;
            this.onChange();
          }
        },
      );
    }
    if (changed) this.onChange();
  }
}
