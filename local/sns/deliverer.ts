/**
 * Durable, asynchronous delivery for the local SNS endpoint, standing in for SNS → SQS →
 * Lambda: `Publish` answers once the message is stored in the outbox, and a
 * {@link Deliverer} hands stored messages to the writer in publish order, retrying
 * failures with backoff, never dropping one, and draining on start whatever a previous
 * run left behind.
 */
import { type BackoffOptions, backoffCeiling } from '../../functions/core/backoff.js';
import type { Log } from '../../functions/core/log.js';
import type { OutboxMessage, OutboxStore } from './outbox-store.js';
import { buildSnsEnvelope } from './sns-envelope.js';
import type { EnvelopeAttribute } from './validate.js';

/** An SQS record as the writer reads it (functions/writer/ports.ts `QueueRecord`). */
export interface DeliveryRecord {
  readonly messageId: string;
  /** The SNS notification envelope JSON. */
  readonly body: string;
}

/** Hands records to the writer; returns the ids to retry, as the writer Lambda does. */
export type Deliver = (
  records: DeliveryRecord[],
) => Promise<{ readonly failedMessageIds: readonly string[] }>;

const stderrLog: Log = {
  info: () => {},
  error: (message, fields) => console.error(`local SNS: ${message} ${JSON.stringify(fields)}`),
};

/** The group of a message: its channel, so that a channel's events stay in order. */
export function deliveryGroup(
  attributes: Readonly<Record<string, EnvelopeAttribute>>,
  messageId: string,
): string {
  const channel = attributes.channel;
  return channel?.Type === 'String' ? `channel:${channel.Value}` : `message:${messageId}`;
}

/** The SQS-shaped record a stored message is delivered as. */
export function toDeliveryRecord(message: OutboxMessage): DeliveryRecord {
  return { messageId: message.sqsMessageId, body: buildSnsEnvelope(message.notification) };
}

export interface DelivererOptions {
  readonly outbox: Pick<OutboxStore, 'read' | 'remove'>;
  readonly deliver: Deliver;
  /** Records per `deliver` call. @default 10, the SQS batch size of the CDK stack */
  readonly batchSize?: number;
  /** Pending messages one round may look through for deliverable ones. @default 1000 */
  readonly lookahead?: number;
  /** Drain this often even if nothing says so (nothing should need it). @default 30 s */
  readonly safetyPollMs?: number;
  /** Retry pacing for a failed group or a failed outbox read. @default 250 ms doubling to 30 s */
  readonly retry?: BackoffOptions;
  /** @default errors on stderr */
  readonly log?: Log;
  readonly now?: () => number;
  readonly random?: () => number;
}

interface Blocked {
  attempts: number;
  until: number;
}

const PAGE_SIZE = 100;

/**
 * Delivers the outbox to the writer.
 *
 * - A round reads pending messages in id (publish) order and hands up to `batchSize` of
 *   them to `deliver` as SQS-shaped records, then removes the ones not reported failed.
 * - A failed message blocks its group (channel) with backoff: no later message of that
 *   group is delivered before it, so a channel's order survives retries, while other
 *   groups go on. If `deliver` throws, every record of the call counts as failed.
 * - Rounds run back to back while they make progress; then the deliverer sleeps until
 *   {@link notify} (every publish), the next retry, or the slow safety poll.
 * - {@link start} drains what a previous run left; {@link stop} clears every timer and
 *   waits for the round in flight.
 */
export class Deliverer {
  readonly #outbox: Pick<OutboxStore, 'read' | 'remove'>;
  readonly #deliver: Deliver;
  readonly #batchSize: number;
  readonly #lookahead: number;
  readonly #safetyPollMs: number;
  readonly #retry: BackoffOptions;
  readonly #log: Log;
  readonly #now: () => number;
  readonly #random: () => number;

  readonly #blocked = new Map<string, Blocked>();
  /** Delivered, but their removal failed: skip them and retry the removal. */
  readonly #unremoved = new Set<string>();
  #readFailures = 0;
  #readRetryAt = 0;
  #started = false;
  #stopped = false;
  #again = false;
  #draining: Promise<void> | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #emptyWaiters: (() => void)[] = [];

  constructor(options: DelivererOptions) {
    this.#outbox = options.outbox;
    this.#deliver = options.deliver;
    this.#batchSize = options.batchSize ?? 10;
    this.#lookahead = Math.max(options.lookahead ?? 1000, this.#batchSize);
    this.#safetyPollMs = options.safetyPollMs ?? 30_000;
    this.#retry = options.retry ?? { baseMs: 250, capMs: 30_000 };
    this.#log = options.log ?? stderrLog;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** Starts delivering, beginning with whatever the outbox holds already. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#armPoll();
    this.notify();
  }

  /** Something was stored: drain now (or right after the round in flight). */
  notify(): void {
    if (!this.#started || this.#stopped) return;
    if (this.#draining !== undefined) {
      this.#again = true;
      return;
    }
    this.#draining = this.#drain();
  }

  /** Resolves once a round finds the outbox empty (or the deliverer stops). */
  drained(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.#emptyWaiters.push(resolve);
      this.notify();
    });
  }

  /** Stops: no timers remain, the round in flight finishes, pending messages stay stored. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#pollTimer);
    clearTimeout(this.#retryTimer);
    this.#pollTimer = undefined;
    this.#retryTimer = undefined;
    await this.#draining;
    for (const resolve of this.#emptyWaiters.splice(0)) resolve();
  }

  async #drain(): Promise<void> {
    try {
      let empty = false;
      do {
        this.#again = false;
        const outcome = await this.#safeRound();
        empty = outcome === 'empty';
        if (outcome === 'progress') this.#again = true;
      } while (this.#again && !this.#stopped);
      if (empty) for (const resolve of this.#emptyWaiters.splice(0)) resolve();
    } finally {
      this.#draining = undefined;
      this.#armRetry();
    }
  }

  async #safeRound(): Promise<'progress' | 'idle' | 'empty'> {
    if (this.#readFailures > 0 && this.#now() < this.#readRetryAt) return 'idle';
    try {
      const outcome = await this.#round();
      this.#readFailures = 0;
      return outcome;
    } catch (error) {
      this.#readFailures += 1;
      const delay = this.#delay(this.#readFailures);
      this.#readRetryAt = this.#now() + delay;
      this.#log.error('outbox read failed; will retry', { error: String(error), retryInMs: delay });
      return 'idle';
    }
  }

  async #round(): Promise<'progress' | 'idle' | 'empty'> {
    if (this.#unremoved.size > 0) {
      const ids = [...this.#unremoved];
      await this.#outbox.remove(ids);
      for (const id of ids) this.#unremoved.delete(id);
    }

    const now = this.#now();
    const batch = [];
    let scanned = 0;
    let after: string | undefined;
    while (batch.length < this.#batchSize && scanned < this.#lookahead) {
      // Messages can be 256 KiB each: read one batch's worth first, more only past blocked ones.
      const page = await this.#outbox.read({
        limit: Math.min(
          after === undefined ? this.#batchSize : PAGE_SIZE,
          this.#lookahead - scanned,
        ),
        after,
      });
      for (const message of page.messages) {
        scanned += 1;
        if (batch.length === this.#batchSize) break;
        const blocked = this.#blocked.get(message.group);
        if (blocked !== undefined && blocked.until > now) continue;
        batch.push(message);
      }
      if (page.next === undefined || page.messages.length === 0) break;
      after = page.next;
    }
    if (scanned === 0) {
      this.#blocked.clear();
      return 'empty';
    }
    if (batch.length === 0) return 'idle';

    const records = batch.map(toDeliveryRecord);
    let failedIds: ReadonlySet<string>;
    try {
      const result = await this.#deliver(records);
      failedIds = new Set(result.failedMessageIds);
    } catch (error) {
      this.#log.error('delivery to the writer failed', {
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        records: records.length,
      });
      failedIds = new Set(records.map((r) => r.messageId));
    }

    const delivered: string[] = [];
    const failedGroups = new Set<string>();
    for (const message of batch) {
      if (failedIds.has(message.sqsMessageId)) failedGroups.add(message.group);
      else delivered.push(message.id);
    }
    for (const message of batch) {
      if (failedGroups.has(message.group)) continue;
      this.#blocked.delete(message.group);
    }
    for (const group of failedGroups) {
      const attempts = (this.#blocked.get(group)?.attempts ?? 0) + 1;
      const delay = this.#delay(attempts);
      this.#blocked.set(group, { attempts, until: this.#now() + delay });
      this.#log.error('delivery failed; will retry', { group, attempts, retryInMs: delay });
    }
    if (delivered.length > 0) {
      try {
        await this.#outbox.remove(delivered);
      } catch (error) {
        for (const id of delivered) this.#unremoved.add(id);
        this.#log.error('outbox removal failed; will retry', {
          error: String(error),
          count: delivered.length,
        });
      }
    }
    this.#log.info('outbox delivered', {
      delivered: delivered.length,
      failed: batch.length - delivered.length,
    });
    return 'progress';
  }

  /** Backoff with half jitter: between half and all of the ceiling, never zero. */
  #delay(attempt: number): number {
    const ceiling = backoffCeiling(attempt, this.#retry);
    return Math.max(1, Math.round(ceiling / 2 + (this.#random() * ceiling) / 2));
  }

  #armPoll(): void {
    if (this.#stopped) return;
    this.#pollTimer = setTimeout(() => {
      this.#pollTimer = undefined;
      this.notify();
      this.#armPoll();
    }, this.#safetyPollMs);
    this.#pollTimer.unref();
  }

  #armRetry(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (this.#stopped) return;
    const now = this.#now();
    let at = Number.POSITIVE_INFINITY;
    if (this.#readFailures > 0) at = this.#readRetryAt;
    for (const { until } of this.#blocked.values()) if (until > now) at = Math.min(at, until);
    if (this.#unremoved.size > 0) at = Math.min(at, now + this.#delay(1));
    if (!Number.isFinite(at)) return;
    this.#retryTimer = setTimeout(
      () => {
        this.#retryTimer = undefined;
        this.notify();
      },
      Math.max(0, at - now),
    );
    this.#retryTimer.unref();
  }
}
