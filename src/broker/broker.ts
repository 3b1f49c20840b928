/** Receives every envelope published on a channel this process subscribed to. */
export type MessageHandler = (channel: string, envelope: Buffer) => void;

/** Called when the broker becomes ready or stops being ready, with the reason. */
export type StateHandler = (ready: boolean, reason: string) => void;

/**
 * The bus between processes. Implementations: `memory` (one process) and `redis`.
 * The server calls subscribe once per channel when its first local subscriber arrives and
 * unsubscribe after its last one leaves; the broker keeps that set across reconnects.
 */
export interface Broker {
  /** Short name for logs and metrics ("memory", "redis"). */
  readonly kind: string;
  /** Starts connecting; resolves at once, readiness is reported through onState. */
  start(): Promise<void>;
  /** Sends an envelope to every process subscribed to `channel`. Rejects when the bus cannot take it. */
  publish(channel: string, envelope: Buffer): Promise<void>;
  /**
   * Starts receiving `channel` (idempotent). Resolves once the bus confirmed the subscription,
   * or at once while the bus is down (the subscription is then made when it returns).
   */
  subscribe(channel: string): Promise<void>;
  /** Stops receiving `channel`. Idempotent. */
  unsubscribe(channel: string): void;
  /** Sets the handler of incoming envelopes (one per broker). */
  onMessage(handler: MessageHandler): void;
  /** Sets the handler of readiness changes (one per broker). */
  onState(handler: StateHandler): void;
  /** True while publish and subscribe reach the bus. */
  isReady(): boolean;
  /** Why the broker is not ready, or "ready". */
  readinessReason(): string;
  /** Channels this process currently wants to receive. */
  subscribedChannels(): ReadonlySet<string>;
  /** Closes every connection. */
  close(): Promise<void>;
}
