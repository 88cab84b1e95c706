/**
 * Durable, asynchronous delivery for the local SNS endpoint, standing in for SNS → SQS
 * FIFO → Lambda: `Publish` answers once the message is stored in the outbox, and a
 * {@link Deliverer} hands stored messages to the writer, several batches at once as the
 * writer's concurrency allows, each channel's in publish order, retrying failures with
 * backoff, never dropping one, and draining on start whatever a previous run left behind.
 */
import { DEPLOYMENT_DEFAULTS } from '../../functions/config/environment.js';
import { type BackoffOptions, backoffCeiling } from '../../functions/core/backoff.js';
import type { Log } from '../../functions/core/log.js';
import { type Batch, DeliveryQueue, type QueuedMessage } from './delivery-queue.js';
import type { OutboxMessage, OutboxStore } from './outbox-store.js';
import { buildSnsEnvelope, type NotificationFields } from './sns-envelope.js';
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

/** A message as the outbox stores it, its group derived from the notification. */
export function outboxMessage(
  id: string,
  sqsMessageId: string,
  notification: NotificationFields,
): OutboxMessage {
  const group = deliveryGroup(notification.attributes ?? {}, notification.messageId);
  return { id, sqsMessageId, group, notification };
}

/** The SQS-shaped record a stored message is delivered as. */
export function toDeliveryRecord(message: OutboxMessage): DeliveryRecord {
  return { messageId: message.sqsMessageId, body: buildSnsEnvelope(message.notification) };
}

export interface DelivererOptions {
  readonly outbox: Pick<OutboxStore, 'read' | 'get' | 'remove'>;
  readonly deliver: Deliver;
  /** Records per `deliver` call. @default 10, the SQS batch size of the CDK stack */
  readonly batchSize?: number;
  /**
   * `deliver` calls in flight at once, each with its own channels.
   * @default 5, the writer's reserved concurrency in the CDK stack
   */
  readonly concurrency?: number;
  /**
   * Message bodies held in memory at most; bodies past it stay in the outbox and are read
   * back when their turn comes. @default 64 MiB
   */
  readonly maxHeldBytes?: number;
  /** Look through the outbox this often for messages it was not handed. @default 30 s */
  readonly safetyPollMs?: number;
  /** Retry pacing for a failed group, outbox read or removal. @default 250 ms doubling to 30 s */
  readonly retry?: BackoffOptions;
  /** @default errors on stderr */
  readonly log?: Log;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** Returned by {@link Deliverer.reserve}: say how the outbox write ended. */
export interface DeliveryTicket {
  /** The messages are stored: deliver them. */
  stored(): void;
  /** The write failed: they may not be stored (the safety poll finds any that were). */
  abandoned(): void;
}

interface Reservation {
  readonly messages: readonly OutboxMessage[];
  state: 'reserved' | 'stored' | 'abandoned';
  /** Whether its messages hold places in the queue (else it waits in `#early`). */
  queued: boolean;
}

/** Messages read per outbox page when looking through it. */
const PAGE_SIZE = 100;
/** Ids per outbox removal call. */
const REMOVE_CHUNK = 100;

/**
 * Delivers the outbox to the writer, as SQS FIFO and a Lambda with reserved concurrency
 * would.
 *
 * - The endpoint hands each message over with {@link reserve} before storing it, in the
 *   order it accepted them, and says when it is stored; the outbox is read only on
 *   {@link start} (what a previous run left), at the slow safety poll and in
 *   {@link drained} (anything stored but not handed over).
 * - Up to `concurrency` `deliver` calls run at once. A channel is in at most one of them,
 *   so its events reach the writer in publish order; free channels are served in turn, so
 *   a burst on one channel delays another by one delivery at most.
 * - A failed message holds back its channel with backoff (its later messages wait), while
 *   other channels go on; if `deliver` throws, every record of the call counts as failed.
 * - Delivered messages leave the outbox in the background, many per call; a failed removal
 *   is retried and never delivers a message again.
 * - {@link stop} clears every timer and waits for the deliveries and removals in flight;
 *   undelivered messages stay stored for the next start.
 */
export class Deliverer {
  readonly #outbox: Pick<OutboxStore, 'read' | 'get' | 'remove'>;
  readonly #deliver: Deliver;
  readonly #batchSize: number;
  readonly #concurrency: number;
  readonly #safetyPollMs: number;
  readonly #retry: BackoffOptions;
  readonly #log: Log;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #queue: DeliveryQueue;

  #started = false;
  #stopped = false;
  /** Whether what the outbox held at start is in the queue. */
  #caughtUp = false;
  /** Handed over before the first look through the outbox ended: queued after it, in order. */
  #early: Reservation[] = [];
  #scan: Promise<void> | undefined;
  #scanAgain = false;
  #scanFailures = 0;
  #scanRetryAt = 0;
  readonly #inFlight = new Set<Promise<void>>();
  /** Delivered, not yet removed from the outbox. */
  #toRemove: string[] = [];
  readonly #unremoved = new Set<string>();
  #removal: Promise<void> | undefined;
  #removeFailures = 0;
  #removeRetryAt = 0;
  #wakeTimer: NodeJS.Timeout | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(options: DelivererOptions) {
    this.#outbox = options.outbox;
    this.#deliver = options.deliver;
    this.#batchSize = positive(
      'batchSize',
      options.batchSize ?? DEPLOYMENT_DEFAULTS.writerBatchSize,
    );
    this.#concurrency = positive(
      'concurrency',
      options.concurrency ?? DEPLOYMENT_DEFAULTS.writerReservedConcurrency,
    );
    this.#safetyPollMs = options.safetyPollMs ?? 30_000;
    this.#retry = options.retry ?? { baseMs: 250, capMs: 30_000 };
    this.#log = options.log ?? stderrLog;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#queue = new DeliveryQueue({ maxHeldBytes: options.maxHeldBytes ?? 64 * 1024 * 1024 });
  }

  /** Bytes of message bodies held in memory now. */
  get heldBytes(): number {
    return this.#queue.heldBytes;
  }

  /** Starts delivering, beginning with whatever the outbox holds already. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#armPoll();
    this.scan();
  }

  /** Hands over messages already stored in the outbox, for delivery now. */
  enqueue(messages: readonly OutboxMessage[]): void {
    this.reserve(messages).stored();
  }

  /**
   * Hands over messages about to be stored: they keep their place in their channels from
   * now on, and go out once the ticket says they are stored.
   */
  reserve(messages: readonly OutboxMessage[]): DeliveryTicket {
    const reservation: Reservation = { messages, state: 'reserved', queued: false };
    if (this.#started && !this.#stopped) {
      if (this.#caughtUp) this.#hold(reservation);
      else this.#early.push(reservation);
    }
    return {
      stored: () => this.#settleReservation(reservation, 'stored'),
      abandoned: () => this.#settleReservation(reservation, 'abandoned'),
    };
  }

  #hold(reservation: Reservation): void {
    reservation.queued = true;
    for (const message of reservation.messages) {
      if (!this.#unremoved.has(message.id)) this.#queue.reserve(message);
    }
  }

  #settleReservation(reservation: Reservation, state: 'stored' | 'abandoned'): void {
    if (reservation.state !== 'reserved') return;
    reservation.state = state;
    if (!reservation.queued) return;
    for (const message of reservation.messages) {
      if (state === 'stored') this.#queue.fulfil(message);
      else this.#queue.release(message.id);
    }
    this.#pump();
  }

  /** Looks through the outbox for messages it was not handed (the safety poll does too). */
  scan(): void {
    if (!this.#started || this.#stopped) return;
    if (this.#scan !== undefined) {
      this.#scanAgain = true;
      return;
    }
    this.#scan = this.#scanLoop().finally(() => {
      this.#scan = undefined;
      this.#armWake();
      this.#settleIdle();
    });
  }

  /**
   * Resolves once everything stored so far, handed over or not, is delivered and out of
   * the outbox (or the deliverer stops).
   */
  drained(): Promise<void> {
    if (this.#stopped || !this.#started) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.scan();
    });
  }

  /** Stops: no timers remain, deliveries and removals in flight end, pending messages stay stored. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#pollTimer);
    clearTimeout(this.#wakeTimer);
    this.#pollTimer = undefined;
    this.#wakeTimer = undefined;
    await Promise.all([...this.#inFlight]);
    await this.#scan;
    // The last deliveries' removals, once: what fails is delivered again next start (the
    // event log drops the duplicate).
    this.#remove();
    await this.#removal;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  async #scanLoop(): Promise<void> {
    do {
      this.#scanAgain = false;
      if (this.#scanFailures > 0 && this.#now() < this.#scanRetryAt) return;
      try {
        let after: string | undefined;
        do {
          const page = await this.#outbox.read({ limit: PAGE_SIZE, after });
          for (const message of page.messages) {
            if (!this.#unremoved.has(message.id)) this.#queue.add(message);
          }
          this.#pump();
          after = page.messages.length === 0 ? undefined : page.next;
        } while (after !== undefined && !this.#stopped);
        this.#scanFailures = 0;
      } catch (error) {
        this.#scanFailures += 1;
        const delay = this.#delay(this.#scanFailures);
        this.#scanRetryAt = this.#now() + delay;
        this.#log.error('outbox read failed; will retry', {
          error: String(error),
          retryInMs: delay,
        });
        return;
      }
      if (!this.#caughtUp) {
        // Handed over while the outbox was read: newer than all it held, so they go after.
        this.#caughtUp = true;
        for (const reservation of this.#early.splice(0)) {
          if (reservation.state === 'abandoned') continue;
          const stored = reservation.state === 'stored';
          this.#hold(reservation);
          if (stored) for (const message of reservation.messages) this.#queue.fulfil(message);
        }
        this.#pump();
      }
    } while (this.#scanAgain && !this.#stopped);
  }

  /** Starts deliveries while there is room and something to deliver. */
  #pump(): void {
    if (this.#stopped) return;
    while (this.#inFlight.size < this.#concurrency) {
      const batch = this.#queue.take(this.#batchSize, this.#now());
      if (batch === undefined) break;
      const run: Promise<void> = this.#run(batch).finally(() => {
        this.#inFlight.delete(run);
        this.#pump();
      });
      this.#inFlight.add(run);
    }
    this.#armWake();
    this.#settleIdle();
  }

  /** One `deliver` call; never rejects. */
  async #run(batch: Batch): Promise<void> {
    const failed = new Set<string>();
    const failAll = () => {
      for (const queued of batch.messages) failed.add(queued.id);
    };
    try {
      const messages = await this.#bodies(batch.messages);
      const records = messages.map(toDeliveryRecord);
      try {
        const result = await this.#deliver(records);
        const idOf = new Map(messages.map((m) => [m.sqsMessageId, m.id]));
        for (const sqsId of result.failedMessageIds) failed.add(idOf.get(sqsId) ?? sqsId);
      } catch (error) {
        this.#log.error('delivery to the writer failed', {
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          records: records.length,
        });
        failAll();
      }
    } catch (error) {
      this.#log.error('outbox read failed; will retry', { error: String(error) });
      failAll();
    }

    const { delivered, failedGroups } = this.#queue.settle(
      batch,
      failed,
      (attempts) => this.#now() + this.#delay(attempts),
    );
    for (const [group, attempts] of failedGroups) {
      this.#log.error('delivery failed; will retry', {
        group,
        attempts,
        retryInMs: Math.max(0, (this.#queue.retryAt(group) ?? 0) - this.#now()),
      });
    }
    for (const id of delivered) this.#unremoved.add(id);
    this.#toRemove.push(...delivered);
    this.#remove();
    this.#log.info('outbox delivered', {
      delivered: delivered.length,
      failed: batch.messages.length - delivered.length,
    });
  }

  /** The batch's messages, reading back from the outbox the bodies not held in memory. */
  async #bodies(batch: readonly QueuedMessage[]): Promise<OutboxMessage[]> {
    const missing = batch.filter((q) => q.message === undefined);
    if (missing.length > 0) {
      const found = new Map(
        (await this.#outbox.get(missing.map((q) => q.id))).map((m) => [m.id, m]),
      );
      for (const queued of missing) {
        const message = found.get(queued.id);
        if (message !== undefined) this.#queue.fill(queued, message);
        else this.#log.error('outbox message gone before delivery', { id: queued.id });
      }
    }
    return batch.flatMap((q) => q.message ?? []);
  }

  /** Removes delivered messages from the outbox, as many per call as have piled up. */
  #remove(): void {
    if (this.#removal !== undefined || this.#toRemove.length === 0) return;
    if (this.#removeFailures > 0 && this.#now() < this.#removeRetryAt && !this.#stopped) return;
    this.#removal = (async () => {
      while (this.#toRemove.length > 0) {
        const ids = this.#toRemove.splice(0, REMOVE_CHUNK);
        try {
          await this.#outbox.remove(ids);
          for (const id of ids) this.#unremoved.delete(id);
          this.#removeFailures = 0;
        } catch (error) {
          this.#toRemove.unshift(...ids);
          this.#removeFailures += 1;
          const delay = this.#delay(this.#removeFailures);
          this.#removeRetryAt = this.#now() + delay;
          this.#log.error('outbox removal failed; will retry', {
            error: String(error),
            count: this.#toRemove.length,
            retryInMs: delay,
          });
          return;
        }
      }
    })().finally(() => {
      this.#removal = undefined;
      this.#armWake();
      this.#settleIdle();
    });
  }

  #idle(): boolean {
    return (
      this.#caughtUp &&
      this.#scan === undefined &&
      this.#queue.size === 0 &&
      this.#inFlight.size === 0 &&
      this.#toRemove.length === 0 &&
      this.#removal === undefined
    );
  }

  #settleIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#idle()) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
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
      this.scan();
      this.#armPoll();
    }, this.#safetyPollMs);
    this.#pollTimer.unref();
  }

  /** One timer for the earliest retry: a held-back group, a failed read or removal. */
  #armWake(): void {
    clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    if (this.#stopped) return;
    const now = this.#now();
    let at = this.#queue.nextRetryAt(now) ?? Number.POSITIVE_INFINITY;
    if (this.#scanFailures > 0 && this.#scan === undefined) at = Math.min(at, this.#scanRetryAt);
    if (this.#removeFailures > 0 && this.#toRemove.length > 0 && this.#removal === undefined) {
      at = Math.min(at, this.#removeRetryAt);
    }
    if (!Number.isFinite(at)) return;
    this.#wakeTimer = setTimeout(
      () => {
        this.#wakeTimer = undefined;
        if (this.#scanFailures > 0) this.scan();
        this.#remove();
        this.#pump();
      },
      Math.max(0, at - now),
    );
    this.#wakeTimer.unref();
  }
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Deliverer: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
