/**
 * Publisher SDK: what backend services use to publish events into the product.
 * It validates with the same contract as the writer (functions/core/contract.ts), then
 * calls SNS `Publish` / `PublishBatch` with the attributes the writer reads. It also
 * mints subscriber tokens for private channels (`signSubscriberToken`).
 */
export type { ViolationCode } from '../functions/core/contract.js';
export { MAX_PAYLOAD_BYTES } from '../functions/core/contract.js';
export {
  InvalidMessageError,
  PublisherConfigError,
  type PublisherConfigErrorCode,
} from './errors.js';
export {
  type BatchEntry,
  type BatchFailure,
  type BatchResult,
  type BatchSuccess,
  createPublisher,
  type Publisher,
  type PublisherOptions,
  type PublishOptions,
  type PublishResult,
} from './publisher.js';
export { fifoDeduplicationId, snsMessageSize } from './sns-input.js';
export {
  MAX_TOKEN_TTL_SECONDS,
  type SubscriberTokenOptions,
  signSubscriberToken,
  type TokenOption,
  TokenOptionsError,
} from './tokens.js';
