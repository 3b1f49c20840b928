import { isIP } from 'node:net';

/** A client's address as the server decides on it: the TCP peer, never a forwarded header. */
export interface PeerAddress {
  /** Canonical text: dotted IPv4 (also for IPv4-mapped IPv6 peers), compressed IPv6 otherwise. */
  address: string;
  /** Address family, as `net.BlockList` names it. */
  family: 'ipv4' | 'ipv6';
}

const MAPPED_IPV4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * Reads uWS `getRemoteAddressAsText()` output (ArrayBuffer or text) as a PeerAddress. uWS gives
 * dotted IPv4 on an IPv4 listener and fully expanded IPv6 (`0000:…:ffff:7f00:0001` for an IPv4
 * client) on a dual-stack one; both come out the same. Null when the text is no IP address.
 */
export function peerAddress(raw: ArrayBuffer | string): PeerAddress | null {
  const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('latin1');
  const version = isIP(text);
  if (version === 4) return { address: text, family: 'ipv4' };
  if (version !== 6) return null;
  // The WHATWG URL parser compresses IPv6 text and writes IPv4-mapped addresses as ::ffff:hhhh:hhhh.
  const compressed = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = MAPPED_IPV4.exec(compressed);
  if (mapped === null) return { address: compressed, family: 'ipv6' };
  const high = parseInt(mapped[1]!, 16);
  const low = parseInt(mapped[2]!, 16);
  return { address: `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, family: 'ipv4' };
}
