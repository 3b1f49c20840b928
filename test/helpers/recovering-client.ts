/** The recovering client for tests: the shared harness (harness/recovering-client.ts). */
export { type ChannelLog, type Position, RecoveringClient, type RecoveringClientOptions } from '../../harness/recovering-client';
