/**
 * Client SDK for serverless-sse-pubsub: one `subscribe` call for browsers, React Native
 * and Node, streaming where it can and long-polling where it cannot, resuming from a
 * stored cursor so that every event arrives once, in order.
 */
export { type BackoffOptions, backoffCeiling, backoffDelay } from './backoff.js';
export { browserStorage, cursorKey, memoryStorage } from './storage.js';
export {
  DEFAULT_TIMING,
  type SubscribeOptions,
  type SubscribeTiming,
  subscribe,
  type TransportOption,
  type Unsubscribe,
} from './subscribe.js';
export { tokenExpiry } from './token.js';
export {
  type ClientEvent,
  type ConnectionState,
  type CursorStorage,
  type ErrorCode,
  type EventSourceConstructor,
  type EventSourceEventLike,
  type EventSourceLike,
  type FetchLike,
  type FetchResponseLike,
  type ResetNotice,
  type StateInfo,
  SubscribeError,
  type TransportKind,
} from './types.js';
