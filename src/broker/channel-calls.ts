import type { PublishResult } from './broker';
import { isNoScript } from './lua-script';

/** Publications waiting for their channel's next script call: one, or a batch that must stay together (consecutive offsets). */
export interface Waiting {
  elements: Buffer[];
  /** The idempotency key of each element (undefined: none); undefined when none has one (the plain scripts). */
  keys: Array<string | undefined> | undefined;
  /** Called with the result of each of `elements`, in order. */
  resolve: (results: PublishResult[]) => void;
  reject: (err: Error) => void;
  /** Sent before and answered NOSCRIPT: its next call carries the script's text. */
  again?: boolean;
}

/** Most publications one script call carries (the rest go in the next call). */
export const MAX_SCRIPT_BATCH = 512;

/** Most data bytes one script call carries, unless a single publication is larger. */
export const MAX_SCRIPT_BATCH_BYTES = 512 * 1024;

/** What a publication of a NOSCRIPT call gets when a call sent after it ran first, or may have. */
export const SCRIPT_LOST_MESSAGE =
  'Redis lost the publish script (SCRIPT FLUSH, a restart or a failover) and a later publication of this channel ran first, or may have; publish again';

/**
 * Sends one script call: `elements` are the publications of `batch`, in order; `withText`: send
 * the script's text (EVAL), Redis answered NOSCRIPT before. Resolves with one result per element.
 */
export type ScriptCall = (channel: string, batch: readonly Waiting[], elements: Buffer[], withText: boolean) => Promise<PublishResult[]>;

/** How a sent call ended: kept until every call sent before it has been answered to its publishers. */
type Outcome = { results: PublishResult[] } | { err: Error; noScript: boolean };

interface SentCall {
  batch: Waiting[];
  outcome?: Outcome;
}

/** One channel's publications waiting to be sent, and its calls sent and not yet settled, oldest first. */
interface ChannelQueue {
  channel: string;
  waiting: Waiting[];
  sent: SentCall[];
  /** Listed in `due` for the end of this turn. */
  due: boolean;
}

/**
 * Removes and returns the first waiting entries that fit one script call: at least one, whole
 * entries only, within MAX_SCRIPT_BATCH publications and MAX_SCRIPT_BATCH_BYTES, all with
 * idempotency keys (the idempotent script) or all without (the plain ones).
 */
function takeBatch(waiting: Waiting[]): Waiting[] {
  let bytes = 0;
  let count = 0;
  let n = 0;
  const keyed = waiting[0]!.keys !== undefined;
  for (; n < waiting.length; n++) {
    const entry = waiting[n]!;
    for (const element of entry.elements) bytes += element.length;
    count += entry.elements.length;
    if (n > 0 && (count > MAX_SCRIPT_BATCH || bytes > MAX_SCRIPT_BATCH_BYTES || (entry.keys !== undefined) !== keyed)) break;
  }
  return waiting.splice(0, n);
}

function answer(batch: readonly Waiting[], results: PublishResult[]): void {
  let next = 0;
  for (const w of batch) w.resolve(results.slice(next, (next += w.elements.length)));
}

/**
 * The publish script calls of every channel, in order. Each channel has at most `inFlight`
 * calls unanswered: publications made meanwhile wait for an answer and then go together in the
 * next call (each keeps its own offset, in call order). A publication on a channel with a call
 * free is sent at the end of its event-loop turn, with the others of that turn, so a low rate
 * pays no extra latency while a high one costs Redis a call per round trip instead of one per
 * publication. Calls sent on one connection run in the order sent, so offsets follow it; their
 * publishers are answered in that order too. A call Redis answered NOSCRIPT (it lost the script)
 * waits until every call sent after it is answered: the NOSCRIPT ones after the last call that
 * got through or may have (any other answer: a result, or an error such as a dropped connection)
 * are sent again, in order, with the script's text; those before it fail (SCRIPT_LOST_MESSAGE)
 * instead of taking offsets after it.
 */
export class ChannelCalls {
  private readonly queues = new Map<string, ChannelQueue>();
  /** Channels to send at the end of this turn. */
  private due: ChannelQueue[] = [];
  private flushScheduled = false;

  /** `inFlight`: calls of one channel unanswered at a time (1 where a redirection can resend a call out of order). */
  constructor(
    private readonly call: ScriptCall,
    private readonly inFlight: number,
  ) {}

  /** Adds publications (kept together, in order) to their channel's next script call. */
  enqueue(channel: string, elements: Buffer[], keys: Array<string | undefined> | undefined): Promise<PublishResult[]> {
    return new Promise<PublishResult[]>((resolve, reject) => {
      let queue = this.queues.get(channel);
      if (queue === undefined) {
        queue = { channel, waiting: [], sent: [], due: false };
        this.queues.set(channel, queue);
      }
      queue.waiting.push({ elements, keys, resolve, reject });
      // With every call unanswered, an answer sends what waits.
      if (queue.sent.length >= this.inFlight || queue.due) return;
      queue.due = true;
      this.due.push(queue);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Channels with publications waiting or calls unanswered. */
  get busyChannels(): number {
    return this.queues.size;
  }

  /** Sends the script calls of this turn's channels. */
  private flush(): void {
    this.flushScheduled = false;
    const due = this.due;
    this.due = [];
    for (const queue of due) {
      queue.due = false;
      this.send(queue);
    }
  }

  /** Sends what waits on `channel` in as many calls as are free. */
  private send(queue: ChannelQueue): void {
    while (queue.sent.length < this.inFlight && queue.waiting.length > 0) {
      const batch = takeBatch(queue.waiting);
      const elements = batch.length === 1 ? batch[0]!.elements : batch.flatMap((w) => w.elements);
      const sent: SentCall = { batch };
      queue.sent.push(sent);
      const withText = batch.some((w) => w.again === true);
      this.call(queue.channel, batch, elements, withText).then(
        (results) => this.settle(queue, sent, { results }),
        (err: Error) => this.settle(queue, sent, { err, noScript: isNoScript(err) }),
      );
    }
    // Nothing unanswered means nothing waits either (the loop sent it).
    if (queue.sent.length === 0 && !queue.due) this.queues.delete(queue.channel);
  }

  /** Records how `call` ended, answers the publishers whose turn it is, in send order, then sends what waits. */
  private settle(queue: ChannelQueue, call: SentCall, outcome: Outcome): void {
    call.outcome = outcome;
    while (queue.sent.length > 0) {
      const head = queue.sent[0]!;
      if (head.outcome === undefined) break;
      if ('err' in head.outcome && head.outcome.noScript) {
        if (queue.sent.some((c) => c.outcome === undefined)) break;
        this.settleAfterNoScript(queue);
        break;
      }
      queue.sent.shift();
      if ('results' in head.outcome) answer(head.batch, head.outcome.results);
      else for (const w of head.batch) w.reject(head.outcome.err);
    }
    this.send(queue);
  }

  /**
   * Every call sent has ended and the first said NOSCRIPT: the calls after the last one that may
   * have run (any answer but NOSCRIPT) go back first in line; the NOSCRIPT ones before it fail.
   */
  private settleAfterNoScript(queue: ChannelQueue): void {
    const calls = queue.sent.splice(0);
    let lastRun = -1;
    calls.forEach((c, i) => {
      const outcome = c.outcome!;
      if (!('err' in outcome && outcome.noScript)) lastRun = i;
    });
    const again: Waiting[] = [];
    calls.forEach((c, i) => {
      const outcome = c.outcome!;
      if ('results' in outcome) answer(c.batch, outcome.results);
      else if (!outcome.noScript) for (const w of c.batch) w.reject(outcome.err);
      else if (i > lastRun) again.push(...c.batch);
      else for (const w of c.batch) w.reject(new Error(SCRIPT_LOST_MESSAGE));
    });
    for (const w of again) w.again = true;
    queue.waiting.unshift(...again);
  }
}
