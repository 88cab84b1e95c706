import type { Violation, ViolationCode } from '../functions/core/contract.js';

/**
 * A message that breaks the publishing contract (DESIGN.md, "Publishing (SNS)").
 *
 * Thrown before anything reaches SNS: the writer would refuse the same message (into
 * its dead-letter queue), so failing at the call site is the only place the publishing
 * service can still fix it. `code` and `field` are the contract's own, shared with the
 * writer, so a metric or a test can match on them instead of on the text.
 *
 * For `publishBatch`, `index` is the position of the first offending entry in the array
 * the caller passed; nothing of that batch was sent. For `publish` it is `undefined`.
 */
export class InvalidMessageError extends Error {
  override readonly name = 'InvalidMessageError';
  /** Which rule was broken, e.g. `INVALID_CHANNEL` or `PAYLOAD_TOO_LARGE`. */
  readonly code: ViolationCode;
  /** Which input was wrong: `channel`, `event`, `dedupeId` or `data`. */
  readonly field: Violation['field'];
  /** The offending entry's position in a `publishBatch` array; `undefined` for `publish`. */
  readonly index: number | undefined;

  constructor(violation: Violation, index?: number) {
    super(index === undefined ? violation.message : `entry ${index}: ${violation.message}`);
    this.code = violation.code;
    this.field = violation.field;
    this.index = index;
  }
}

/** Why `createPublisher` refused its options. */
export type PublisherConfigErrorCode =
  | 'INVALID_TOPIC_ARN'
  | 'CONFLICTING_CLIENT_OPTIONS'
  | 'INVALID_MAX_PAYLOAD_BYTES';

/**
 * `createPublisher` was given options it cannot work with: a missing or malformed
 * `topicArn`, both `client` and `clientConfig` (one of them would be silently ignored),
 * or a `maxPayloadBytes` outside 1..262144. Thrown at creation, so a misconfigured
 * service fails at start-up rather than on its first publish.
 */
export class PublisherConfigError extends Error {
  override readonly name = 'PublisherConfigError';
  readonly code: PublisherConfigErrorCode;
  /** The option that was wrong. */
  readonly option: 'topicArn' | 'client' | 'maxPayloadBytes';

  constructor(
    code: PublisherConfigErrorCode,
    option: PublisherConfigError['option'],
    message: string,
  ) {
    super(message);
    this.code = code;
    this.option = option;
  }
}
