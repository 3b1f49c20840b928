import { connect, type Socket } from 'node:net';

/**
 * Holds a broadcaster process in its drain: an unfinished HTTP request on its admin port keeps the
 * admin listener from closing, and the process closes it only after its clients and its broker,
 * so between SIGTERM and `release()` the process is alive with the broker already closed.
 */
export class DrainHold {
  private constructor(private readonly socket: Socket) {}

  /** Opens the unfinished request on 127.0.0.1:`adminPort`. */
  static open(adminPort: number): Promise<DrainHold> {
    return new Promise((resolve, reject) => {
      const socket = connect(adminPort, '127.0.0.1', () => {
        // Headers without their final empty line: the request stays in progress.
        socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', () => resolve(new DrainHold(socket)));
      });
      socket.once('error', reject);
      socket.on('error', () => {});
      socket.resume();
    });
  }

  /** Finishes the request, letting the process complete its shutdown. */
  release(): void {
    this.socket.end('Connection: close\r\n\r\n');
  }

  /** Drops the connection without finishing the request. */
  destroy(): void {
    this.socket.destroy();
  }
}
