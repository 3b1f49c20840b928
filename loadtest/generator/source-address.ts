/**
 * Spreading subscribers over loopback source addresses. One (source address, destination)
 * pair has about 28k ephemeral ports (32768-60999), so past that many subscribers to one
 * server the generator binds 127.0.0.2, 127.0.0.3, ... (all of 127/8 is routed to `lo`).
 */

/** Default subscribers per source address: well under the ~28k ephemeral ports. */
export const DEFAULT_PER_ADDRESS = 20_000;

/** Source address of global subscriber `g`, or undefined to let the kernel choose. */
export function sourceAddressFor(g: number, addresses: readonly string[], perAddress: number): string | undefined {
  if (addresses.length === 0) return undefined;
  return addresses[Math.floor(g / perAddress) % addresses.length];
}

/**
 * Source addresses for `total` subscribers: none (kernel's choice) while one address is
 * enough, else 127.0.0.1, 127.0.0.2, ... as many as needed.
 */
export function autoSourceAddresses(total: number, perAddress: number = DEFAULT_PER_ADDRESS): string[] {
  if (total <= perAddress) return [];
  const n = Math.ceil(total / perAddress);
  const out: string[] = [];
  for (let i = 1; i <= n; i++) out.push(`127.0.0.${i}`);
  return out;
}
