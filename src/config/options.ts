/** Log levels accepted by `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of the accepted log levels. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The complete, validated server configuration. Every field has a documented default. */
export interface Options {
  /** TCP port for WebSocket and HTTP; 0 picks a free port. */
  port: number;
  /** Address to listen on. */
  host: string;
  /** Redis URL; null runs the embedded in-memory broker (single process). */
  redisUrl: string | null;
  /** Prefix of every Redis channel name, so deployments can share one Redis. */
  redisPrefix: string;
  /** Minimum level of the JSON log lines written to stdout. */
  logLevel: LogLevel;
  /** Largest publication data accepted, in bytes (WebSocket publish and HTTP body). */
  maxMessageSize: number;
  /** Most channels one connection may subscribe to. */
  maxSubscriptionsPerConnection: number;
  /** Bytes queued for one slow client before it is disconnected. */
  maxBackpressure: number;
  /** Seconds without traffic before a connection is closed; pings are sent automatically. 0 disables. */
  idleTimeout: number;
  /** Milliseconds allowed for a graceful shutdown before the process exits anyway. */
  shutdownTimeout: number;
}

/** How one option is given and checked. */
export interface OptionSpec {
  /** Field name in Options and in the JSON config file. */
  key: keyof Options;
  /** Command-line flag without the leading dashes. */
  flag: string;
  /** Environment variable name. */
  env: string;
  /** Value type used to parse flag and environment strings. */
  type: 'integer' | 'string' | 'url' | 'level';
  /** Default value. */
  default: Options[keyof Options];
  /** Inclusive integer bounds, for integer options. */
  min?: number;
  /** Inclusive upper bound, for integer options. */
  max?: number;
  /** One-line description for --help and the docs. */
  help: string;
}

/** Every option of the server, in --help order. */
export const OPTION_SPECS: readonly OptionSpec[] = [
  { key: 'port', flag: 'port', env: 'BROADCASTER_PORT', type: 'integer', default: 9001, min: 0, max: 65535,
    help: 'TCP port for WebSocket (/ws) and HTTP; 0 picks a free port. Several processes may share one port (SO_REUSEPORT).' },
  { key: 'host', flag: 'host', env: 'BROADCASTER_HOST', type: 'string', default: '0.0.0.0',
    help: 'Address to listen on.' },
  { key: 'redisUrl', flag: 'redis-url', env: 'BROADCASTER_REDIS_URL', type: 'url', default: null,
    help: 'Redis URL (redis://[user:pass@]host:port[/db] or rediss://). Unset: in-memory broker, single process.' },
  { key: 'redisPrefix', flag: 'redis-prefix', env: 'BROADCASTER_REDIS_PREFIX', type: 'string', default: 'bc:',
    help: 'Prefix of every Redis channel name, so several deployments can share one Redis.' },
  { key: 'logLevel', flag: 'log-level', env: 'BROADCASTER_LOG_LEVEL', type: 'level', default: 'info',
    help: 'Log level: fatal, error, warn, info, debug, trace or silent. Logs are JSON lines on stdout.' },
  { key: 'maxMessageSize', flag: 'max-message-size', env: 'BROADCASTER_MAX_MESSAGE_SIZE', type: 'integer',
    default: 65536, min: 1, max: 16 * 1024 * 1024,
    help: 'Largest publication data in bytes, over WebSocket and HTTP.' },
  { key: 'maxSubscriptionsPerConnection', flag: 'max-subscriptions-per-connection',
    env: 'BROADCASTER_MAX_SUBSCRIPTIONS_PER_CONNECTION', type: 'integer', default: 1024, min: 1, max: 1_000_000,
    help: 'Most channels one connection may subscribe to.' },
  { key: 'maxBackpressure', flag: 'max-backpressure', env: 'BROADCASTER_MAX_BACKPRESSURE', type: 'integer',
    default: 1024 * 1024, min: 1024, max: 1024 * 1024 * 1024,
    help: 'Bytes queued for one slow client before the server closes its connection.' },
  { key: 'idleTimeout', flag: 'idle-timeout', env: 'BROADCASTER_IDLE_TIMEOUT', type: 'integer', default: 120,
    min: 0, max: 960,
    help: 'Seconds without traffic before a connection is closed (0 disables, else 8-960); pings keep live clients open.' },
  { key: 'shutdownTimeout', flag: 'shutdown-timeout', env: 'BROADCASTER_SHUTDOWN_TIMEOUT', type: 'integer',
    default: 10000, min: 0, max: 600000,
    help: 'Milliseconds a graceful shutdown (SIGTERM/SIGINT) may take before the process exits anyway.' },
];

/** The defaults of every option, as one object. */
export function defaultOptions(): Options {
  const options: Record<string, unknown> = {};
  for (const spec of OPTION_SPECS) options[spec.key] = spec.default;
  return options as unknown as Options;
}
