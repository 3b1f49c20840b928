/** Public API of broadcaster for embedding and for Node backends. */
export { BroadcasterServer, ListenError, SHUTDOWN_REASON, type ServerDeps, type BrokerContext } from './server';
export { Publisher, type PublisherOptions } from './publisher/publisher';
export { encodeEnvelope, parseEnvelope, ENVELOPE_VERSION, type EnvelopeView } from './protocol/envelope';
export { Command, Frame, ErrorCode, CloseCode } from './protocol/opcodes';
export { Failures, type Failure, type HttpFailure } from './protocol/errors';
export { channelNameProblem, isValidChannelName, MAX_CHANNEL_LENGTH } from './protocol/channel-name';
export { defaultOptions, OPTION_SPECS, type Options, type LogLevel } from './config/options';
export { loadConfig } from './config/load-config';
export { ConfigError } from './config/config-error';
export type { Broker } from './broker/broker';
export type { StreamPosition, HistoryPage, HistoryEntry } from './broker/broker';
export { MemoryBroker } from './broker/memory-broker';
export { RedisBroker, type RedisBrokerOptions } from './broker/redis-broker';
export { HistoryPolicies } from './config/history-policy';
export type { PresenceStore, PresenceEntry, PresenceCounts } from './presence/presence-store';
export { MemoryPresenceStore, MemoryPresenceSpace } from './presence/memory-presence-store';
export { RedisPresenceStore, type RedisPresenceOptions } from './presence/redis-presence-store';
