/**
 * The chaos run's publisher: one sequential loop per channel at a fixed rate over HTTP, each
 * payload "<seq>.<attempt>|padding" unique, so a retried publish never looks like a duplicate.
 */
import type { IdTable } from './chaos-ids';

/** One published channel. */
export interface PublishedChannel {
  /** Channel name. */
  name: string;
  /** Publications per second. */
  rate: number;
  /** Bytes of padding after the id (0: tiny messages). */
  padding: number;
}

/** Counters of one publisher run. */
export interface PublisherTally {
  /** Publications acknowledged with 200 (each a distinct id). */
  acked: number;
  /** Attempts answered with an error status or failed on the network (then retried). */
  failedAttempts: number;
  /** Messages abandoned after retrying for `giveUpMs` (never acknowledged). */
  abandoned: number;
}

/** How long one message is retried before it is abandoned. */
const GIVE_UP_MS = 15_000;

/** Publishes on every channel until `durationMs` passed, retrying through outages. */
export class ChaosPublisher {
  /** Acknowledged ids per channel (interned). */
  readonly acked = new Map<string, number[]>();
  /** Counters. */
  readonly tally: PublisherTally = { acked: 0, failedAttempts: 0, abandoned: 0 };
  /** Base URLs not to publish to right now (a frozen server). */
  readonly excluded = new Set<string>();
  private stopAt = 0;

  constructor(
    private readonly bases: string[],
    private readonly channels: PublishedChannel[],
    private readonly ids: Map<string, IdTable>,
  ) {
    for (const c of channels) this.acked.set(c.name, []);
  }

  /** Runs every channel's loop; resolves when all stopped (duration over and last message settled). */
  async run(durationMs: number): Promise<void> {
    const start = Date.now();
    this.stopAt = start + durationMs;
    await Promise.all(this.channels.map((c) => this.loop(c, start)));
  }

  /** Ends the loops early (after their current message). */
  stop(): void {
    this.stopAt = 0;
  }

  private async loop(channel: PublishedChannel, start: number): Promise<void> {
    const interval = 1000 / channel.rate;
    const padding = 'p'.repeat(channel.padding);
    const table = this.ids.get(channel.name)!;
    const acked = this.acked.get(channel.name)!;
    for (let seq = 1; ; seq++) {
      // Fixed schedule; after an outage, slots already past are not made up in a burst.
      const wait = start + seq * interval - Date.now();
      if (wait > 0) await sleep(wait);
      if (Date.now() >= this.stopAt) return;
      const id = await this.publishOne(channel.name, seq, padding);
      if (id === null) this.tally.abandoned++;
      else {
        acked.push(table.intern(id));
        this.tally.acked++;
      }
    }
  }

  /** Publishes message `seq`, retrying with a new attempt id; the acknowledged id, or null. */
  private async publishOne(channel: string, seq: number, padding: string): Promise<string | null> {
    const giveUp = Date.now() + GIVE_UP_MS;
    for (let attempt = 0; Date.now() < giveUp; attempt++) {
      const usable = this.bases.filter((b) => !this.excluded.has(b));
      const base = usable[(seq + attempt) % usable.length];
      const id = `${seq}.${attempt}`;
      if (base !== undefined) {
        try {
          const res = await fetch(`${base}/v1/channels/${channel}/publish`, {
            method: 'POST',
            // The "|" keeps the body from being valid JSON, so the history shows it as base64 bytes.
            body: `${id}|${padding}`,
            signal: AbortSignal.timeout(10_000),
          });
          await res.arrayBuffer();
          if (res.status === 200) return id;
        } catch {
          // the process may be restarting or frozen: try again
        }
      }
      this.tally.failedAttempts++;
      await sleep(50);
    }
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
