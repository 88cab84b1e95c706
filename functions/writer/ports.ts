/**
 * What the writer needs from the world, as the writer names it: the adapters
 * (adapters/sqs, adapters/powertools, local/) implement these, and the core of the
 * writer (process-batch.ts) never learns which one it got.
 */

/** The part of an SQS record the writer reads. */
export interface QueueRecord {
  readonly messageId: string;
  readonly body: string;
}

/** Why a message can never be stored: retrying it would not help. */
export interface Rejection {
  readonly code: string;
  readonly field?: string;
  readonly message: string;
}

/** Where rejected messages go, with their reason, so that nobody retries them forever. */
export interface DeadLetterSink {
  send(record: QueueRecord, rejection: Rejection): Promise<void>;
}

export interface WriterMetrics {
  rejected(code: string): void;
  appended(count: number): void;
  duplicates(count: number): void;
  failed(count: number): void;
}
