/**
 * Bytes sitting in the kernel's TCP queues between servers and subscribers, from `ss`: what the
 * servers wrote that the subscribers had not read yet. Read when counting stops, a large figure
 * means messages were still on their way, not lost.
 */
import { execFileSync } from 'node:child_process';

/** Bytes queued on the established connections of some server ports. */
export interface SocketQueues {
  /** connections seen (server side) */
  connections: number;
  /** bytes the servers' sockets have not had acknowledged (sent or waiting: Send-Q) */
  serverSendQueue: number;
  /** bytes the clients' sockets received and their process has not read (Recv-Q) */
  clientReceiveQueue: number;
}

/** Zero queues. */
export function emptyQueues(): SocketQueues {
  return { connections: 0, serverSendQueue: 0, clientReceiveQueue: 0 };
}

function portOf(address: string): number {
  const i = address.lastIndexOf(':');
  return i < 0 ? -1 : Number(address.slice(i + 1));
}

/**
 * Sums the queues in `ss -tn` output (with or without a leading State column, with or without
 * a header) for connections whose local port (server side) or peer port (client side) is one of
 * `ports`.
 */
export function parseSocketQueues(text: string, ports: readonly number[]): SocketQueues {
  const wanted = new Set(ports);
  const q = emptyQueues();
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const first = fields.findIndex((f) => /^\d+$/.test(f));
    if (first < 0 || fields.length < first + 4) continue;
    const recv = Number(fields[first]);
    const send = Number(fields[first + 1]);
    const local = portOf(fields[first + 2]!);
    const peer = portOf(fields[first + 3]!);
    if (wanted.has(local)) {
      q.connections++;
      q.serverSendQueue += send;
    } else if (wanted.has(peer)) q.clientReceiveQueue += recv;
  }
  return q;
}

/** Reads the queues of established TCP connections to or from `ports` on this host; null when `ss` fails. */
export function readSocketQueues(ports: readonly number[]): SocketQueues | null {
  if (ports.length === 0) return emptyQueues();
  const filter = ports.map((p) => `sport = :${p} or dport = :${p}`).join(' or ');
  try {
    const out = execFileSync('ss', ['-tnH', 'state', 'established', `( ${filter} )`], { encoding: 'utf8', timeout: 10_000, maxBuffer: 64 * 1024 * 1024 });
    return parseSocketQueues(out, ports);
  } catch {
    return null;
  }
}
