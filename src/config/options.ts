import { DEFAULT_TRUSTED_NETWORKS } from '../security/trusted-networks';

/** Seconds the result of a publish with an idempotency key is kept unless `--idempotency-ttl` says otherwise. */
export const DEFAULT_IDEMPOTENCY_TTL = 300;

/** Log levels accepted by `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of the accepted log levels. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Policies accepted by `--slow-consumer-policy`. */
export const SLOW_CONSUMER_POLICIES = ['close', 'drop'] as const;

/** One of the accepted slow-consumer policies. */
export type SlowConsumerPolicy = (typeof SLOW_CONSUMER_POLICIES)[number];

/** Values accepted by `--anonymous`. */
export const ANONYMOUS_MODES = ['allow', 'deny'] as const;

/** Values accepted by `--compression`. */
export const COMPRESSION_MODES = ['off', 'shared', 'dedicated'] as const;

/** The complete, validated server configuration. Every field has a documented default. */
export interface Options {
  /** TCP port for WebSocket and HTTP; 0 picks a free port. */
  port: number;
  /** Address to listen on. */
  host: string;
  /** Redis URL; null runs the embedded in-memory broker (single process). */
  redisUrl: string | null;
  /** Redis Cluster startup nodes (host:port); empty: no cluster. Exclusive with redisUrl. */
  redisClusterNodes: string[];
  /** Partitions (hash tags) channels are spread over on a Redis Cluster; the same on every server and publisher. */
  redisClusterPartitions: number;
  /** Prefix of every Redis channel name, so deployments can share one Redis. */
  redisPrefix: string;
  /** Minimum level of the JSON log lines written to stdout. */
  logLevel: LogLevel;
  /** Largest publication data accepted, in bytes (WebSocket publish and HTTP body). */
  maxMessageSize: number;
  /** Largest batch publish body (POST /v1/publish), in bytes. */
  maxBatchBytes: number;
  /** Most channels one connection may subscribe to. */
  maxSubscriptionsPerConnection: number;
  /** Bytes queued for one slow client before it is disconnected. */
  maxBackpressure: number;
  /** Seconds without traffic before a connection is closed; pings are sent automatically. 0 disables. */
  idleTimeout: number;
  /** Milliseconds allowed for a graceful shutdown before the process exits anyway. */
  shutdownTimeout: number;
  /** Publications kept per channel for recovery (0 disables history and offsets). */
  historySize: number;
  /** Seconds a channel's history lives after its last publication. */
  historyTtl: number;
  /** Seconds a channel's offset counter and epoch live after its last publication. */
  historyMetaTtl: number;
  /** Per-namespace history overrides: `prefix=size/ttl,...` (longest matching prefix wins). */
  historyNamespaces: string;
  /** Seconds the result of a publish with an idempotency key is kept; a repeat within it publishes nothing. */
  idempotencyTtl: number;
  /** What to do with a client whose send backlog passes maxBackpressure. */
  slowConsumerPolicy: SlowConsumerPolicy;
  /** Milliseconds between health probes (PING) on each Redis connection. */
  redisProbeInterval: number;
  /** Milliseconds the memory broker gathers publications before fanning them out together; 0: at once. */
  memoryBatchMs: number;
  /** Milliseconds the hub gathers each channel's broker publications before one fan-out turn (a channel's first after a quiet spell at once); 0: none. */
  fanoutWindowMs: number;
  /** Milliseconds a Redis probe may take before the connection is dropped and reopened. */
  redisProbeTimeout: number;
  /** Worker processes sharing the port under the built-in supervisor; 0 = one per CPU core, 1 = no supervisor. */
  workers: number;
  /** Base admin port (metrics, health); process i listens on adminPort + i. 0 disables the admin listener. */
  adminPort: number;
  /** Address of the admin listener. */
  adminHost: string;
  /** Instance number of this process under systemd (broadcaster@N); added to adminPort. */
  instance: number;
  /** HS256 secret for connection tokens, or null. */
  jwtSecret: string | null;
  /** PEM file with the RS256/ES256 public key for connection tokens, or null. */
  jwtPublicKey: string | null;
  /** JWKS file with public keys for connection tokens, or null. */
  jwksFile: string | null;
  /** Whether clients without a token may connect (always "deny" when keys are configured). */
  anonymous: (typeof ANONYMOUS_MODES)[number];
  /** Channel patterns any client may subscribe to (`*` all, `chat:*` a namespace, or exact names). */
  clientSubscribe: readonly string[];
  /** Channel patterns clients may publish to over WebSocket; empty: only what a token's `publish` claim grants. */
  clientPublish: readonly string[];
  /** Keys accepted by the HTTP API (`Authorization: Bearer <key>`); empty: only peers in trustedNetworks may call it. */
  apiKeys: readonly string[];
  /** CIDR networks whose peers may call the HTTP API without a key (ignored once apiKeys are set). */
  trustedNetworks: readonly string[];
  /** Exact origins allowed to open WebSockets; empty: every origin. */
  allowedOrigins: readonly string[];
  /** Commands per second one connection may send (token bucket, burst twice as large); 0: no limit. */
  rateLimitMessages: number;
  /** Bytes per second one connection may send (token bucket, burst twice as large); 0: no limit. */
  rateLimitBytes: number;
  /** Most WebSocket connections of this process; 0: the file-descriptor limit minus a reserve. */
  maxConnections: number;
  /** Most WebSocket connections from one client IP address; 0: no limit. */
  maxConnectionsPerIp: number;
  /** permessage-deflate: off, shared (one compressor) or dedicated (one per connection). */
  compression: (typeof COMPRESSION_MODES)[number];
  /** PEM certificate file for wss:// and https://, or null for plain ws:// and http://. */
  tlsCert: string | null;
  /** PEM private key file matching tlsCert. */
  tlsKey: string | null;
  /** Channel prefixes whose subscribers are tracked as present (e.g. `chat:`); empty: no presence. */
  presenceNamespaces: readonly string[];
  /** Seconds the presence entries of a process that stopped (crashed) live after its last heartbeat (every ttl / 3). */
  presenceTtl: number;
  /** Token claim copied into presence entries as `info` (any JSON value). */
  presenceInfoClaim: string;
  /** Serve the demo page at /demo (chat with presence, a ticker); enables publishing and presence for its chat channels. */
  demo: boolean;
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
  type: 'integer' | 'string' | 'url' | 'level' | 'policy' | 'namespaces' | 'secret' | 'file' | 'list' | 'choice' | 'boolean';
  /** Allowed values, for choice options. */
  choices?: readonly string[];
  /** Default value. */
  default: Options[keyof Options];
  /** Inclusive integer bounds, for integer options. */
  min?: number;
  /** Inclusive upper bound, for integer options. */
  max?: number;
  /** One-line description for --help and the docs. */
  help: string;
}

/** Options of authentication, permissions and limits (docs/SECURITY.md). */
const SECURITY_SPECS: readonly OptionSpec[] = [
  { key: 'jwtSecret', flag: 'jwt-secret', env: 'BROADCASTER_JWT_SECRET', type: 'secret', default: null,
    help: 'HS256 secret that signs connection tokens (at least 32 bytes). Setting any key turns anonymous access off.' },
  { key: 'jwtPublicKey', flag: 'jwt-public-key', env: 'BROADCASTER_JWT_PUBLIC_KEY', type: 'file', default: null,
    help: 'PEM file with the public key (RSA: RS256, EC P-256: ES256) that verifies connection tokens.' },
  { key: 'jwksFile', flag: 'jwks-file', env: 'BROADCASTER_JWKS_FILE', type: 'file', default: null,
    help: 'JWKS file (JSON {"keys": [...]}) with RS256/ES256 public keys; tokens pick theirs by "kid".' },
  { key: 'anonymous', flag: 'anonymous', env: 'BROADCASTER_ANONYMOUS', type: 'choice', choices: ANONYMOUS_MODES, default: 'allow',
    help: 'Whether clients without a token may connect: allow or deny. Allowed by default (public subscribe-only broadcast needs no account; anonymous clients cannot publish unless --client-publish says so). Always deny when a JWT key is configured.' },
  { key: 'clientSubscribe', flag: 'client-subscribe', env: 'BROADCASTER_CLIENT_SUBSCRIBE', type: 'list', default: ['*'],
    help: 'Channel patterns clients may subscribe to, comma-separated: * (all), prefix* (a namespace) or exact names.' },
  { key: 'clientPublish', flag: 'client-publish', env: 'BROADCASTER_CLIENT_PUBLISH', type: 'list', default: [],
    help: 'Channel patterns clients may publish to over WebSocket (e.g. "chat:*"); a token\'s "publish" claim narrows them. Empty (default): client publishing is off (error 108) except where a token\'s "publish" claim grants it; channels are publish-from-backend.' },
  { key: 'apiKeys', flag: 'api-key', env: 'BROADCASTER_API_KEYS', type: 'list', default: [],
    help: 'Keys of the HTTP API (Authorization: Bearer <key>); repeat the flag or comma-separate. Empty: only peers in --trusted-networks may call it, others get 401 untrusted_network.' },
  { key: 'trustedNetworks', flag: 'trusted-networks', env: 'BROADCASTER_TRUSTED_NETWORKS', type: 'list', default: DEFAULT_TRUSTED_NETWORKS,
    help: 'CIDR networks (or single addresses), comma-separated, whose peers may call the HTTP API without a key; ignored once --api-key is set. The TCP peer address decides (X-Forwarded-For is ignored). Empty: nobody without a key.' },
  { key: 'allowedOrigins', flag: 'allowed-origins', env: 'BROADCASTER_ALLOWED_ORIGINS', type: 'list', default: [],
    help: 'Exact origins (scheme://host[:port]) allowed to open WebSockets, comma-separated. Empty: any. Requests without Origin are allowed.' },
  { key: 'rateLimitMessages', flag: 'rate-limit-messages', env: 'BROADCASTER_RATE_LIMIT_MESSAGES', type: 'integer', default: 200, min: 0, max: 1_000_000,
    help: 'Commands per second one connection may send (bursts of twice as many); over it commands get error 109. 0: no limit.' },
  { key: 'rateLimitBytes', flag: 'rate-limit-bytes', env: 'BROADCASTER_RATE_LIMIT_BYTES', type: 'integer', default: 1048576, min: 0, max: 1024 * 1024 * 1024,
    help: 'Bytes per second one connection may send (bursts of twice as many); over it commands get error 109. 0: no limit.' },
  { key: 'maxConnections', flag: 'max-connections', env: 'BROADCASTER_MAX_CONNECTIONS', type: 'integer', default: 0, min: 0, max: 10_000_000,
    help: 'Most WebSocket connections of this process; more get HTTP 503. 0: the open-files limit minus 256.' },
  { key: 'maxConnectionsPerIp', flag: 'max-connections-per-ip', env: 'BROADCASTER_MAX_CONNECTIONS_PER_IP', type: 'integer', default: 0, min: 0, max: 10_000_000,
    help: 'Most WebSocket connections from one IP address; more get HTTP 429. 0: no limit (clients behind NAT or a proxy share an address).' },
  { key: 'compression', flag: 'compression', env: 'BROADCASTER_COMPRESSION', type: 'choice', choices: COMPRESSION_MODES, default: 'off',
    help: 'permessage-deflate: off, shared (one compressor for all) or dedicated (one per connection, more memory). Inflated frames are capped like plain ones.' },
  { key: 'tlsCert', flag: 'tls-cert', env: 'BROADCASTER_TLS_CERT', type: 'file', default: null,
    help: 'PEM certificate (chain) file: serve wss:// and https://. Needs --tls-key.' },
  { key: 'tlsKey', flag: 'tls-key', env: 'BROADCASTER_TLS_KEY', type: 'file', default: null,
    help: 'PEM private key file matching --tls-cert.' },
];

/** Every option of the server, in --help order. */
export const OPTION_SPECS: readonly OptionSpec[] = [
  { key: 'port', flag: 'port', env: 'BROADCASTER_PORT', type: 'integer', default: 9001, min: 0, max: 65535,
    help: 'TCP port for WebSocket (/ws) and HTTP; 0 picks a free port. Several processes may share one port (SO_REUSEPORT).' },
  { key: 'host', flag: 'host', env: 'BROADCASTER_HOST', type: 'string', default: '0.0.0.0',
    help: 'Address to listen on (all interfaces by default: clients connect from other machines; anonymous clients on a non-loopback address are warned about at start).' },
  { key: 'redisUrl', flag: 'redis-url', env: 'BROADCASTER_REDIS_URL', type: 'url', default: null,
    help: 'Redis URL (redis://[user:pass@]host:port[/db] or rediss://). Unset: in-memory broker, single process.' },
  { key: 'redisClusterNodes', flag: 'redis-cluster-nodes', env: 'BROADCASTER_REDIS_CLUSTER_NODES', type: 'list', default: [],
    help: 'Redis Cluster startup nodes, host:port comma-separated (a few are enough): sharded pub/sub, one subscriber connection per shard. Not with --redis-url.' },
  { key: 'redisClusterPartitions', flag: 'redis-cluster-partitions', env: 'BROADCASTER_REDIS_CLUSTER_PARTITIONS', type: 'integer', default: 64, min: 1, max: 16384,
    help: 'Partitions channels are spread over on a Redis Cluster (each a hash tag on its own slot, spread evenly); every server and publisher of a deployment must use the same count.' },
  { key: 'redisPrefix', flag: 'redis-prefix', env: 'BROADCASTER_REDIS_PREFIX', type: 'string', default: 'bc:',
    help: 'Prefix of every Redis channel name, so several deployments can share one Redis.' },
  { key: 'logLevel', flag: 'log-level', env: 'BROADCASTER_LOG_LEVEL', type: 'level', default: 'info',
    help: 'Log level: fatal, error, warn, info, debug, trace or silent. Logs are JSON lines on stdout.' },
  { key: 'maxMessageSize', flag: 'max-message-size', env: 'BROADCASTER_MAX_MESSAGE_SIZE', type: 'integer',
    default: 65536, min: 1, max: 16 * 1024 * 1024,
    help: 'Largest publication data in bytes, over WebSocket and HTTP.' },
  { key: 'maxBatchBytes', flag: 'max-batch-bytes', env: 'BROADCASTER_MAX_BATCH_BYTES', type: 'integer',
    default: 1024 * 1024, min: 1, max: 64 * 1024 * 1024,
    help: 'Largest body of a batch publish (POST /v1/publish) in bytes; each item\'s data is also limited by --max-message-size.' },
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
  { key: 'historySize', flag: 'history-size', env: 'BROADCASTER_HISTORY_SIZE', type: 'integer', default: 100, min: 0, max: 1_000_000,
    help: 'Publications kept per channel for recovery; every publication gets an offset. 0 disables history and offsets.' },
  { key: 'historyTtl', flag: 'history-ttl', env: 'BROADCASTER_HISTORY_TTL', type: 'integer', default: 300, min: 1, max: 30 * 86400,
    help: "Seconds a channel's history lives after its last publication." },
  { key: 'historyMetaTtl', flag: 'history-meta-ttl', env: 'BROADCASTER_HISTORY_META_TTL', type: 'integer', default: 86400, min: 1, max: 365 * 86400,
    help: "Seconds a channel's offset counter and epoch live after its last publication (when they expire, the channel gets a new epoch)." },
  { key: 'historyNamespaces', flag: 'history-namespaces', env: 'BROADCASTER_HISTORY_NAMESPACES', type: 'namespaces', default: '',
    help: 'Per-namespace history: prefix=size/ttl, comma-separated, e.g. "chat:=100/300,live:=0/1" (longest matching prefix wins; size 0 disables).' },
  { key: 'idempotencyTtl', flag: 'idempotency-ttl', env: 'BROADCASTER_IDEMPOTENCY_TTL', type: 'integer', default: DEFAULT_IDEMPOTENCY_TTL, min: 1, max: 86400,
    help: 'Seconds a publish with an idempotency key (HTTP Idempotency-Key header, batch item idempotency_key) is remembered per channel: a repeat within it publishes nothing and answers the first result.' },
  { key: 'slowConsumerPolicy', flag: 'slow-consumer-policy', env: 'BROADCASTER_SLOW_CONSUMER_POLICY', type: 'policy', default: 'close',
    help: 'A client whose backlog passes --max-backpressure is closed ("close", it reconnects and recovers) or skips publications until it catches up ("drop", it sees an offset gap).' },
  { key: 'fanoutWindowMs', flag: 'fanout-window-ms', env: 'BROADCASTER_FANOUT_WINDOW_MS', type: 'integer', default: 1, min: 0, max: 100,
    help: 'Milliseconds a channel\'s publications from the broker (any broker) are gathered and then fanned out in one turn, so they share each subscriber\'s socket write; windows are per channel, and a channel\'s first publication after a quiet spell (8 empty windows in a row on it) goes out at once (no latency at low rates), and 32 gathered (what uWS writes to a subscriber at once) go out without waiting. 0: fan out each at once.' },
  { key: 'memoryBatchMs', flag: 'memory-batch-ms', env: 'BROADCASTER_MEMORY_BATCH_MS', type: 'integer', default: 0, min: 0, max: 100,
    help: 'With the in-memory broker, an extra window (milliseconds) the broker itself gathers publications for, without the quiet-window exception of --fanout-window-ms; 0: none (the default since --fanout-window-ms does this for every broker).' },
  { key: 'redisProbeInterval', flag: 'redis-probe-interval', env: 'BROADCASTER_REDIS_PROBE_INTERVAL', type: 'integer', default: 1000, min: 100, max: 60000,
    help: 'Milliseconds between PING probes on each Redis connection (detects stalled connections).' },
  { key: 'redisProbeTimeout', flag: 'redis-probe-timeout', env: 'BROADCASTER_REDIS_PROBE_TIMEOUT', type: 'integer', default: 3000, min: 100, max: 60000,
    help: 'Milliseconds a Redis probe may go unanswered before the connection is dropped and reopened.' },
  { key: 'workers', flag: 'workers', env: 'BROADCASTER_WORKERS', type: 'integer', default: 0, min: 0, max: 256,
    help: 'Worker processes sharing the port under the built-in supervisor (restarts crashed workers, drains all on SIGTERM, rolling restart on SIGHUP); 0 = one per CPU core, 1 = a single process without supervisor. Without --redis-url always one process.' },
  { key: 'adminPort', flag: 'admin-port', env: 'BROADCASTER_ADMIN_PORT', type: 'integer', default: 0, min: 0, max: 65535,
    help: 'Base port of the admin listener (GET /metrics, /healthz, /readyz); worker i (or systemd instance i) uses this port + i. 0 disables it.' },
  { key: 'adminHost', flag: 'admin-host', env: 'BROADCASTER_ADMIN_HOST', type: 'string', default: '127.0.0.1',
    help: 'Address of the admin listener.' },
  { key: 'instance', flag: 'instance', env: 'BROADCASTER_INSTANCE', type: 'integer', default: 0, min: 0, max: 1000,
    help: 'Instance number of this process when a service manager runs one process per unit (systemd broadcaster@N); its admin port is --admin-port + N.' },
  { key: 'presenceNamespaces', flag: 'presence-namespaces', env: 'BROADCASTER_PRESENCE_NAMESPACES', type: 'list', default: [],
    help: 'Channel prefixes with presence, comma-separated (e.g. "chat:"): who is subscribed (client id, the token\'s sub and info claim) across every process, join/leave events, GET /v1/channels/{channel}/presence. Empty: no presence.' },
  { key: 'presenceTtl', flag: 'presence-ttl', env: 'BROADCASTER_PRESENCE_TTL', type: 'integer', default: 15, min: 1, max: 3600,
    help: 'Seconds the presence entries of a process that died live after its last heartbeat (sent every ttl / 3); after that reads no longer list them and leave events follow.' },
  { key: 'presenceInfoClaim', flag: 'presence-info-claim', env: 'BROADCASTER_PRESENCE_INFO_CLAIM', type: 'string', default: 'info',
    help: 'Token claim copied into each presence entry as "info" (any JSON value, e.g. {"name": "Ada"}); absent: null.' },
  { key: 'demo', flag: 'demo', env: 'BROADCASTER_DEMO', type: 'boolean', default: false,
    help: 'Serve the demo page at /demo: a chat room (demo:chat) with presence and a ticker (demo:ticker) the server publishes every second. Adds demo:chat* to --client-publish and demo:chat to --presence-namespaces; every other default stays.' },
  ...SECURITY_SPECS,
];

/** The defaults of every option, as one object. */
export function defaultOptions(): Options {
  const options: Record<string, unknown> = {};
  for (const spec of OPTION_SPECS) options[spec.key] = spec.default;
  return options as unknown as Options;
}
