import type { HistoryPolicies } from '../config/history-policy';
import { ENVELOPE_VERSION } from '../protocol/envelope';
import type { Broker, HistoryPage, MessageHandler, StateHandler, StreamPosition } from './broker';
import { MemoryHistory } from './memory-history';

/** The embedded single-process broker: publications go straight to this process's subscribers. */
export class MemoryBroker implements Broker {
  readonly kind = 'memory';
  private readonly channels = new Set<string>();
  private readonly store: MemoryHistory;
  private handler: MessageHandler = () => {};
  private stateHandler: StateHandler = () => {};
  private open = false;

  constructor(policies: HistoryPolicies, metaTtl: number) {
    this.store = new MemoryHistory(policies, metaTtl);
  }

  async start(): Promise<void> {
    this.open = true;
    this.stateHandler(true, 'ready');
  }

  async publish(channel: string, dataElement: Buffer): Promise<StreamPosition | null> {
    if (!this.open) throw new Error('memory broker is closed; publish before close()');
    const sequenced = this.store.append(channel, dataElement);
    const envelope = sequenced?.envelope ?? Buffer.concat([Buffer.from([0x92, ENVELOPE_VERSION]), dataElement]);
    if (this.channels.has(channel)) this.handler(channel, envelope);
    return sequenced?.position ?? null;
  }

  async history(channel: string, since: number, limit: number): Promise<HistoryPage | null> {
    if (!this.open) throw new Error('memory broker is closed; read history before close()');
    return this.store.read(channel, since, limit);
  }

  async subscribe(channel: string): Promise<void> {
    this.channels.add(channel);
  }

  receivesAtOnce(): boolean {
    return this.open;
  }

  unsubscribe(channel: string): void {
    this.channels.delete(channel);
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  onState(handler: StateHandler): void {
    this.stateHandler = handler;
  }

  isReady(): boolean {
    return this.open;
  }

  readinessReason(): string {
    return this.open ? 'ready' : 'memory broker closed';
  }

  subscribedChannels(): ReadonlySet<string> {
    return this.channels;
  }

  async close(): Promise<void> {
    this.open = false;
    this.channels.clear();
    this.store.close();
    this.stateHandler(false, 'memory broker closed');
  }
}
