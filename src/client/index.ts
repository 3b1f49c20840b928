/**
 * The broadcaster client SDK for browsers and Node (`broadcaster/client`); see docs/CLIENT.md.
 */
export { Client, LocalCloseCode, type ClientEvents, type ClientOptions, type ConnectionState, type PublishResult } from './client';
export {
  Subscription,
  type Publication,
  type SubscribedEvent,
  type SubscribeReason,
  type SubscriptionEvents,
  type SubscriptionHandlers,
  type SubscriptionOptions,
  type SubscriptionState,
  type PresenceResult,
  type PresenceCounts,
  type UnsubscribedEvent,
} from './subscription';
export { BroadcasterError, ClientErrorCode, ErrorCode } from './errors';
export { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
export type { Clock } from './clock';
export type { Position, PresenceEntry } from './codec';
export type { DataFormat } from './data';
export type { TokenSource } from './token';
export type { WebSocketConstructor } from './websocket-like';
export { CloseCode } from '../protocol/opcodes';
