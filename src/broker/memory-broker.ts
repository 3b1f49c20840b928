import type { Broker, MessageHandler, StateHandler } from './broker';

/** The embedded single-process broker: publications go straight to this process's subscribers. */
export class MemoryBroker implements Broker {
  readonly kind = 'memory';
  private readonly channels = new Set<string>();
  private handler: MessageHandler = () => {};
  private stateHandler: StateHandler = () => {};
  private open = false;

  async start(): Promise<void> {
    this.open = true;
    this.stateHandler(true, 'ready');
  }

  async publish(channel: string, envelope: Buffer): Promise<void> {
    if (!this.open) throw new Error('memory broker is closed; publish before close()');
    if (this.channels.has(channel)) this.handler(channel, envelope);
  }

  async subscribe(channel: string): Promise<void> {
    this.channels.add(channel);
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
    this.stateHandler(false, 'memory broker closed');
  }
}
