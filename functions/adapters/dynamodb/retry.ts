/**
 * When a failed append transaction is worth another try: which errors are transient,
 * and what a `TransactionCanceledException` says about the next round.
 */
import type { CancellationReason, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { AppendOutcome } from '../../core/event-log.js';
import { ATTR, type Head, headOf, numberOf } from './item-codec.js';

/**
 * Enough for a handful of concurrent writers on one channel; a hotter channel should
 * raise it (every lost race costs an attempt).
 */
export const DEFAULT_MAX_ATTEMPTS = 10;

/** Error names worth another try: throttling, contention, and faults on AWS's side. */
const RETRYABLE_ERROR_NAMES = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'TransactionInProgressException',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/**
 * Network failures the SDK gave up on. The transaction may or may not have committed;
 * retrying is safe because the head condition and the dedupe markers catch a commit.
 */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** `CancellationReason.Code`s worth another try (DynamoDB uses both short and long names). */
const RETRYABLE_REASON_CODES = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ThrottlingException',
  'ProvisionedThroughputExceeded',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
]);

/** Outcome of one round of a chunk: committed, or what the cancellation taught us. */
export type Round =
  | { readonly kind: 'committed'; readonly head: Head }
  | {
      readonly kind: 'retry';
      /** Events found to be stored already, by index in the chunk's pending list. */
      readonly duplicates: ReadonlyMap<number, AppendOutcome>;
      /** The current head when another writer moved it; `null` when it must be re-read. */
      readonly head: Head | null | undefined;
      /** Whether to back off before the next round. */
      readonly backoff: boolean;
      readonly error: unknown;
    };

/**
 * Reads a `TransactionCanceledException`. Reasons are index-aligned with the items:
 * 0 is the head, then for the i-th pending event 1 + 2i its item and 2 + 2i its marker.
 */
export function cancellation(
  error: TransactionCanceledException,
  pendingCount: number,
  appendId: string,
): Round {
  const reasons: readonly CancellationReason[] = error.CancellationReasons ?? [];
  const duplicates = new Map<number, AppendOutcome>();
  let head: Head | null | undefined;
  let backoff = false;
  let slotTaken = false;
  for (const [index, reason] of reasons.entries()) {
    const code = reason.Code ?? 'None';
    if (code === 'None') continue;
    if (RETRYABLE_REASON_CODES.has(code)) {
      backoff = true;
      continue;
    }
    if (code !== 'ConditionalCheckFailed') throw error;
    if (index === 0) {
      // Another writer moved the head; ALL_OLD hands us where it is now.
      head = reason.Item === undefined ? null : headOf(reason.Item);
    } else if (index % 2 === 0 && index / 2 - 1 < pendingCount) {
      const item = reason.Item;
      if (item === undefined) throw error;
      duplicates.set(index / 2 - 1, {
        position: numberOf(item, ATTR.target),
        // Our own marker means an earlier attempt of this very call committed after all.
        duplicate: item[ATTR.appendId]?.S !== appendId,
      });
    } else {
      slotTaken = true;
    }
  }
  const nothingLearned = head === undefined && duplicates.size === 0 && !backoff;
  if (nothingLearned || (slotTaken && head === undefined)) {
    // Either an event position was taken while the head says it is free (the log is
    // damaged) or the cancellation gave no reason we understand: retrying cannot help.
    throw error;
  }
  return { kind: 'retry', duplicates, head, backoff, error };
}

export function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (RETRYABLE_ERROR_NAMES.has(error.name)) return true;
  if ('code' in error && typeof error.code === 'string' && RETRYABLE_NETWORK_CODES.has(error.code))
    return true;
  if ('$fault' in error && error.$fault === 'server') return true;
  if ('$metadata' in error && typeof error.$metadata === 'object' && error.$metadata !== null) {
    const status = 'httpStatusCode' in error.$metadata ? error.$metadata.httpStatusCode : undefined;
    return typeof status === 'number' && status >= 500;
  }
  return false;
}
