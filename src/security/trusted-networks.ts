import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../config/config-error';
import { peerAddress, type PeerAddress } from './peer-address';

/** Networks the keyless HTTP API answers by default: IPv4 and IPv6 loopback. */
export const DEFAULT_TRUSTED_NETWORKS: readonly string[] = ['127.0.0.0/8', '::1'];

/** One parsed network entry: an address and a prefix length. */
interface Network {
  address: string;
  family: 'ipv4' | 'ipv6';
  prefix: number;
}

/** Parses `address[/prefix]` (no prefix: the single address), or returns why it is invalid. */
function parseNetwork(entry: string): Network | string {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return `${JSON.stringify(entry)} is not an IP address or CIDR network (e.g. 10.0.0.0/8, fd00::/8, 192.168.1.7)`;
  const max = version === 4 ? 32 : 128;
  const prefixText = slash === -1 ? String(max) : entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return `${JSON.stringify(entry)} has an invalid prefix length: use 0-${max}`;
  return { address, family: version === 4 ? 'ipv4' : 'ipv6', prefix: Number(prefixText) };
}

/** Why a `--trusted-networks` entry is invalid, or null when it is a valid address or CIDR network. */
export function networkProblem(entry: string): string | null {
  const parsed = parseNetwork(entry);
  return typeof parsed === 'string' ? parsed : null;
}

/** Loopback ranges with their prefix lengths: a network inside one of them is loopback only. */
const LOOPBACK: ReadonlyArray<Network> = [
  { address: '127.0.0.0', family: 'ipv4', prefix: 8 },
  { address: '::1', family: 'ipv6', prefix: 128 },
  { address: '::ffff:127.0.0.0', family: 'ipv6', prefix: 104 },
];

const loopbackList = new BlockList();
for (const n of LOOPBACK) loopbackList.addSubnet(n.address, n.prefix, n.family);

/** True when every address of `network` is a loopback address. */
function insideLoopback(network: Network): boolean {
  return LOOPBACK.some((range) => {
    if (network.prefix < range.prefix) return false;
    const single = new BlockList();
    single.addSubnet(range.address, range.prefix, range.family);
    return single.check(network.address, network.family);
  });
}

/** True when `host` (a listen address or name) accepts connections from loopback only. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  const peer = peerAddress(host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);
  return peer !== null && loopbackList.check(peer.address, peer.family);
}

/**
 * The networks (`--trusted-networks`) whose peers may use the HTTP API without a key, matched
 * with `net.BlockList` against the socket's peer address.
 */
export class TrustedNetworks {
  /** The entries as configured. */
  readonly entries: readonly string[];
  /** True when some entry reaches beyond loopback. */
  readonly beyondLoopback: boolean;
  private readonly list = new BlockList();
  /** The verdicts of recent peers by the text uWS gives (emptied when it holds PEER_VERDICTS); valid because `list` never changes after the constructor. */
  private readonly verdicts = new Map<string, PeerVerdict>();

  /** Throws ConfigError naming --trusted-networks on an invalid entry. */
  constructor(entries: readonly string[]) {
    this.entries = [...entries];
    let beyond = false;
    for (const entry of entries) {
      const network = parseNetwork(entry);
      if (typeof network === 'string') {
        throw new ConfigError('trustedNetworks', `invalid trustedNetworks entry ${network}; set --trusted-networks / BROADCASTER_TRUSTED_NETWORKS to comma-separated CIDR networks`);
      }
      this.list.addSubnet(network.address, network.prefix, network.family);
      if (!insideLoopback(network)) beyond = true;
    }
    this.beyondLoopback = beyond;
  }

  /** True when `peer` lies inside one of the networks. */
  contains(peer: PeerAddress): boolean {
    return this.list.check(peer.address, peer.family);
  }

  /** How many peer verdicts are kept now (at most PEER_VERDICTS). */
  get keptVerdicts(): number {
    return this.verdicts.size;
  }

  /**
   * Judges a peer from the text uWS gives for it (`getRemoteAddressAsText`): its address and
   * whether it lies inside the networks. A backend calls from the same few addresses, so the
   * verdicts of the last PEER_VERDICTS distinct texts are kept instead of parsed again.
   */
  judge(text: string): PeerVerdict {
    let verdict = this.verdicts.get(text);
    if (verdict === undefined) {
      const peer = peerAddress(text);
      // Frozen: every later request from this peer gets the same object.
      verdict = Object.freeze({ peer: peer === null ? null : Object.freeze(peer), trusted: peer !== null && this.contains(peer) });
      if (this.verdicts.size >= PEER_VERDICTS) this.verdicts.clear();
      this.verdicts.set(text, verdict);
    }
    return verdict;
  }
}

/** A peer as `TrustedNetworks.judge` found it: its address (null: the text is no IP address) and whether it is trusted. */
export interface PeerVerdict {
  readonly peer: Readonly<PeerAddress> | null;
  readonly trusted: boolean;
}

/** Most distinct peer texts whose verdicts a TrustedNetworks keeps (then it forgets them all and starts again). */
export const PEER_VERDICTS = 1024;
