import type { PresenceService } from '../presence/presence-service';

/** The socket calls presence makes: joining and leaving a channel's join/leave topic. */
export interface ListenerSocket {
  subscribe(topic: string): boolean;
  unsubscribe(topic: string): boolean;
}

/**
 * One connection's presence: its client id, the presence channels it is present on and
 * whether it listens to their join/leave events. Made on the first presence channel only.
 */
export class SessionPresence {
  /** Channel → true while this connection receives its join/leave events. */
  private readonly channels = new Map<string, boolean>();
  /** This connection's client id in every presence entry. */
  readonly client: string;

  constructor(private readonly service: PresenceService) {
    this.client = service.newClientId();
  }

  /** Present on `channel` (idempotent), listening to its events when `listen`; resolves once they are delivered. */
  present(channel: string, user: string | null, info: unknown, listen: boolean, socket: ListenerSocket | null): Promise<void> {
    const listening = this.channels.get(channel);
    const written = listening === undefined ? this.service.join(channel, { client: this.client, user, info }) : Promise.resolve();
    if (listening === true || !listen) {
      if (listening === undefined) this.channels.set(channel, false);
      return written;
    }
    this.channels.set(channel, true);
    socket?.subscribe(this.service.listenerTopic(channel));
    return Promise.all([written, this.service.listen(channel)]).then(() => {});
  }

  /** Gone from `channel` (unsubscribed). */
  absent(channel: string, socket: ListenerSocket | null): void {
    const listening = this.channels.get(channel);
    if (listening === undefined) return;
    this.channels.delete(channel);
    this.service.leave(channel, this.client);
    if (listening) {
      socket?.unsubscribe(this.service.listenerTopic(channel));
      this.service.unlisten(channel);
    }
  }

  /** The connection closed: gone from every channel (uWS left the topics itself). */
  closed(): void {
    for (const channel of [...this.channels.keys()]) this.absent(channel, null);
  }
}
