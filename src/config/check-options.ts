import { ConfigError } from './config-error';
import type { Options } from './options';

/** Smallest HS256 secret accepted, in bytes (RFC 7518 asks for at least the hash size). */
export const MIN_JWT_SECRET_BYTES = 32;

/**
 * Checks the rules that involve several options and resolves derived values; `explicit` names
 * the options set by a flag, the environment or the config file. Throws ConfigError.
 */
export function checkOptions(options: Options, explicit: ReadonlySet<string>): Options {
  if (options.idleTimeout !== 0 && options.idleTimeout < 8) {
    throw new ConfigError('idleTimeout', `invalid idleTimeout ${options.idleTimeout}: set --idle-timeout / BROADCASTER_IDLE_TIMEOUT to 0 (off) or 8-960 seconds`);
  }
  if (options.maxBackpressure < options.maxMessageSize + 1024) {
    throw new ConfigError(
      'maxBackpressure',
      `invalid maxBackpressure ${options.maxBackpressure}: it must hold one whole message; set --max-backpressure to at least --max-message-size + 1024 (${options.maxMessageSize + 1024})`,
    );
  }
  const keys = [options.jwtSecret, options.jwtPublicKey, options.jwksFile].filter((k) => k !== null).length;
  if (keys > 1) {
    throw new ConfigError('jwtSecret', 'give one token key: --jwt-secret, --jwt-public-key or --jwks-file, not several');
  }
  if (options.jwtSecret !== null && Buffer.byteLength(options.jwtSecret) < MIN_JWT_SECRET_BYTES) {
    throw new ConfigError('jwtSecret', `--jwt-secret / BROADCASTER_JWT_SECRET is too short: use at least ${MIN_JWT_SECRET_BYTES} random bytes (e.g. openssl rand -base64 48)`);
  }
  if (keys > 0 && options.anonymous === 'allow' && explicit.has('anonymous')) {
    throw new ConfigError('anonymous', '--anonymous allow cannot be combined with a token key: anonymous access is off whenever keys are configured; remove --anonymous or the key');
  }
  if (keys === 0 && options.anonymous === 'deny') {
    throw new ConfigError('anonymous', '--anonymous deny without a token key would refuse every client: configure --jwt-secret, --jwt-public-key or --jwks-file');
  }
  if ((options.tlsCert === null) !== (options.tlsKey === null)) {
    throw new ConfigError(options.tlsCert === null ? 'tlsCert' : 'tlsKey', 'TLS needs both --tls-cert and --tls-key');
  }
  if (options.redisUrl !== null && options.redisClusterNodes.length > 0) {
    throw new ConfigError(
      'redisClusterNodes',
      '--redis-url and --redis-cluster-nodes (BROADCASTER_REDIS_URL, BROADCASTER_REDIS_CLUSTER_NODES) are exclusive: give --redis-url for one Redis, --redis-cluster-nodes for a Redis Cluster',
    );
  }
  if (options.redisClusterNodes.length > 0 && /[{}]/.test(options.redisPrefix)) {
    throw new ConfigError('redisPrefix', `--redis-prefix "${options.redisPrefix}" contains { or }: on a Redis Cluster the partition tag must be the first {…} of every key; choose a prefix without braces`);
  }
  const demo = options.demo ? demoSettings(options) : {};
  return { ...options, ...demo, anonymous: keys > 0 ? 'deny' : options.anonymous };
}

/** Channel patterns and presence namespace `--demo` adds: clients publish and are present in demo:chat*, nothing else changes. */
export const DEMO_CHAT_PREFIX = 'demo:chat';

function demoSettings(options: Options): Partial<Options> {
  const add = (list: readonly string[], item: string): string[] => (list.includes(item) ? [...list] : [...list, item]);
  return { clientPublish: add(options.clientPublish, `${DEMO_CHAT_PREFIX}*`), presenceNamespaces: add(options.presenceNamespaces, DEMO_CHAT_PREFIX) };
}
