import type { Options } from '../config/options';
import { isLoopbackHost, TrustedNetworks } from './trusted-networks';

/** Names of the insecure settings the server warns about (the `setting` label of the gauge). */
export const INSECURE_SETTING_NAMES = ['anonymous_public_listener', 'client_publish_all', 'http_api_beyond_loopback'] as const;

/** One of the insecure setting names. */
export type InsecureSettingName = (typeof INSECURE_SETTING_NAMES)[number];

/** An insecure setting in force, with the warning that names the fix. */
export interface InsecureSetting {
  name: InsecureSettingName;
  message: string;
}

function hasTokenKey(options: Readonly<Options>): boolean {
  return options.jwtSecret !== null || options.jwtPublicKey !== null || options.jwksFile !== null;
}

/**
 * The insecure settings in force for `options`: anonymous clients on a listener reachable
 * beyond loopback, client publishing to every channel, a keyless HTTP API trusting networks
 * beyond loopback on such a listener. Logged as warnings at start and exported as a gauge.
 */
export function findInsecureSettings(options: Readonly<Options>): InsecureSetting[] {
  const found: InsecureSetting[] = [];
  const publicListener = !isLoopbackHost(options.host);
  if (publicListener && options.anonymous === 'allow' && !hasTokenKey(options)) {
    found.push({
      name: 'anonymous_public_listener',
      message: `insecure: clients without a token may connect on ${options.host} (reachable beyond loopback); configure --jwt-secret, --jwt-public-key or --jwks-file, or --host 127.0.0.1 behind a proxy, if subscribing must not be public`,
    });
  }
  if (options.clientPublish.includes('*')) {
    found.push({
      name: 'client_publish_all',
      message: "insecure: --client-publish '*' lets every client publish to every channel; list only the namespaces clients may publish to (e.g. --client-publish 'chat:*'), or grant it per user with the token's \"publish\" claim",
    });
  }
  if (publicListener && options.apiKeys.length === 0 && new TrustedNetworks(options.trustedNetworks).beyondLoopback) {
    found.push({
      name: 'http_api_beyond_loopback',
      message: `insecure: the HTTP API has no --api-key and --trusted-networks (${options.trustedNetworks.join(',')}) reaches beyond loopback, so every peer there may publish and read history; set --api-key`,
    });
  }
  return found;
}
