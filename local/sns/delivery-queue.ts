/**
 * What the local SNS deliverer has yet to deliver, as SQS FIFO + Lambda would see it: one
 * queue per group (channel), a group in at most one batch at a time, failed groups held
 * back with backoff, and free groups served in turn so that a busy channel cannot keep a
 * quiet one waiting: the group served longest ago goes first (so a group never served goes
 * before every busy one, and busy ones take turns). A
 * message can hold its place while it is being stored, so a channel's messages go out in
 * the order the endpoint accepted them even when their writes finish out of order. Pure
 * bookkeeping: no I/O, no timers.
 */
import type { OutboxMessage } from './outbox-store.js';

/** A pending message; `message` is `undefined` when its body was left in the outbox. */
export interface QueuedMessage {
  readonly id: string;
  readonly group: string;
  readonly bytes: number;
  message: OutboxMessage | undefined;
  /** Being stored: it holds its place, and the rest of its group waits behind it. */
  reserved: boolean;
}

/** Messages taken for one delivery; their groups are locked until {@link DeliveryQueue.settle}. */
export interface Batch {
  readonly messages: readonly QueuedMessage[];
  readonly groups: ReadonlySet<string>;
}

export interface DeliveryQueueOptions {
  /** Bodies held in memory at most; past it, bodies stay in the outbox and are read back. */
  readonly maxHeldBytes: number;
  /** Ids of delivered messages remembered, so that a scan racing a removal adds none again. */
  readonly rememberDelivered?: number;
  /** Groups whose last delivery time is remembered; a forgotten group counts as quiet. */
  readonly rememberGroups?: number;
}

interface Hold {
  readonly attempts: number;
  readonly until: number;
}

/** A rough size of a message in memory: JavaScript strings take up to 2 bytes a character. */
export function heldBytes(message: OutboxMessage): number {
  const n = message.notification;
  const attributes = n.attributes === undefined ? 0 : JSON.stringify(n.attributes).length;
  return 2 * (n.message.length + attributes + (n.subject?.length ?? 0)) + 512;
}

export class DeliveryQueue {
  readonly #maxHeldBytes: number;
  readonly #rememberDelivered: number;
  /** Pending messages by group, each in id (publish) order. */
  readonly #groups = new Map<string, QueuedMessage[]>();
  /** Groups with pending messages and no batch in flight, served longest ago first. */
  #turns: string[] = [];
  /** When each group was last taken, oldest first. */
  readonly #served = new Map<string, number>();
  readonly #locked = new Set<string>();
  readonly #holds = new Map<string, Hold>();
  readonly #entries = new Map<string, QueuedMessage>();
  readonly #delivered = new Set<string>();
  readonly #rememberGroups: number;
  #size = 0;
  #heldBytes = 0;

  constructor(options: DeliveryQueueOptions) {
    this.#maxHeldBytes = options.maxHeldBytes;
    this.#rememberDelivered = options.rememberDelivered ?? 10_000;
    this.#rememberGroups = options.rememberGroups ?? 100_000;
  }

  /** Pending messages, in flight or not. */
  get size(): number {
    return this.#size;
  }

  /** Bytes of message bodies held in memory. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Whether `id` is pending here or was delivered lately. */
  has(id: string): boolean {
    return this.#entries.has(id) || this.#delivered.has(id);
  }

  /**
   * Adds a stored message unless it is pending or was delivered lately; returns whether it
   * was added. It goes after the messages of its group with lower ids that are not in flight.
   */
  add(message: OutboxMessage): boolean {
    return this.#insert(message, false);
  }

  /**
   * Holds a place for a message being stored: nothing of its group behind it is taken
   * until {@link fulfil} (stored) or {@link release} (not stored).
   */
  reserve(message: OutboxMessage): boolean {
    return this.#insert(message, true);
  }

  /** The reserved message is stored: it may go. */
  fulfil(message: OutboxMessage): void {
    const queued = this.#entries.get(message.id);
    if (queued === undefined || !queued.reserved) return;
    queued.reserved = false;
    if (this.#heldBytes + queued.bytes <= this.#maxHeldBytes) {
      queued.message = message;
      this.#heldBytes += queued.bytes;
    }
  }

  /** The reserved message was not stored: its place goes. */
  release(id: string): void {
    const queued = this.#entries.get(id);
    if (queued === undefined || !queued.reserved) return;
    const queue = (this.#groups.get(queued.group) ?? []).filter((m) => m !== queued);
    this.#entries.delete(id);
    this.#size -= 1;
    if (queue.length > 0) this.#groups.set(queued.group, queue);
    else if (!this.#locked.has(queued.group)) this.#dropGroup(queued.group);
  }

  #insert(message: OutboxMessage, reserved: boolean): boolean {
    if (this.has(message.id)) return false;
    const bytes = heldBytes(message);
    const keep = !reserved && this.#heldBytes + bytes <= this.#maxHeldBytes;
    const queued: QueuedMessage = {
      id: message.id,
      group: message.group,
      bytes,
      message: keep ? message : undefined,
      reserved,
    };
    if (keep) this.#heldBytes += bytes;
    let queue = this.#groups.get(message.group);
    if (queue === undefined) {
      queue = [];
      this.#groups.set(message.group, queue);
      if (!this.#locked.has(message.group)) this.#queueTurn(message.group);
    }
    let at = queue.length;
    while (at > 0 && (queue[at - 1]?.id ?? '') > message.id) at -= 1;
    queue.splice(at, 0, queued);
    this.#entries.set(message.id, queued);
    this.#size += 1;
    return true;
  }

  /** Puts a group in line by when it was last served: never served goes first. */
  #queueTurn(group: string): void {
    const served = this.#served.get(group) ?? Number.NEGATIVE_INFINITY;
    let low = 0;
    let high = this.#turns.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = this.#served.get(this.#turns[mid] ?? '') ?? Number.NEGATIVE_INFINITY;
      if (other <= served) low = mid + 1;
      else high = mid;
    }
    this.#turns.splice(low, 0, group);
  }

  #dropGroup(group: string): void {
    this.#groups.delete(group);
    this.#holds.delete(group);
    this.#turns = this.#turns.filter((g) => g !== group);
  }

  /** Gives a message read back from the outbox its body. */
  fill(queued: QueuedMessage, message: OutboxMessage): void {
    if (queued.message === undefined) this.#heldBytes += queued.bytes;
    queued.message = message;
  }

  /**
   * Takes up to `max` messages for one delivery: the first free groups in turn, each from
   * the front of its queue, skipping groups in flight or held back after a failure.
   */
  take(max: number, now: number): Batch | undefined {
    const messages: QueuedMessage[] = [];
    const groups = new Set<string>();
    for (const group of this.#turns) {
      if (messages.length >= max) break;
      const hold = this.#holds.get(group);
      if (hold !== undefined && hold.until > now) continue;
      const before = messages.length;
      for (const queued of this.#groups.get(group) ?? []) {
        if (queued.reserved || messages.length >= max) break;
        messages.push(queued);
      }
      if (messages.length > before) groups.add(group);
    }
    if (messages.length === 0) return undefined;
    this.#turns = this.#turns.filter((group) => !groups.has(group));
    for (const group of groups) {
      this.#locked.add(group);
      this.#served.delete(group);
      this.#served.set(group, now);
      if (this.#served.size > this.#rememberGroups) {
        const oldest = this.#served.keys().next().value;
        if (oldest !== undefined) this.#served.delete(oldest);
      }
    }
    return { messages, groups };
  }

  /**
   * Ends a delivery: messages not in `failedIds` are done and leave the queue (their ids
   * are returned, for removal from the outbox); a group with a failed message keeps it at
   * its front and is held back until `holdUntil(attempts)`; every group of the batch goes
   * to the back of the turns.
   */
  settle(
    batch: Batch,
    failedIds: ReadonlySet<string>,
    holdUntil: (attempts: number) => number,
  ): { readonly delivered: string[]; readonly failedGroups: Map<string, number> } {
    const delivered: string[] = [];
    const failedGroups = new Map<string, number>();
    const done = new Set<QueuedMessage>();
    for (const queued of batch.messages) {
      if (failedIds.has(queued.id)) {
        if (!failedGroups.has(queued.group)) {
          failedGroups.set(queued.group, (this.#holds.get(queued.group)?.attempts ?? 0) + 1);
        }
      } else {
        done.add(queued);
        delivered.push(queued.id);
      }
    }
    for (const group of batch.groups) {
      const queue = (this.#groups.get(group) ?? []).filter((m) => !done.has(m));
      const attempts = failedGroups.get(group);
      if (attempts === undefined) this.#holds.delete(group);
      else this.#holds.set(group, { attempts, until: holdUntil(attempts) });
      this.#locked.delete(group);
      if (queue.length === 0) {
        this.#dropGroup(group);
      } else {
        this.#groups.set(group, queue);
        this.#queueTurn(group);
      }
    }
    for (const queued of done) this.#forget(queued);
    return { delivered, failedGroups };
  }

  /** When a held-back group may be tried again. */
  retryAt(group: string): number | undefined {
    return this.#holds.get(group)?.until;
  }

  /** When the earliest held-back group may be tried again, if any is held past `now`. */
  nextRetryAt(now: number): number | undefined {
    let at: number | undefined;
    for (const [group, { until }] of this.#holds) {
      if (until <= now || this.#locked.has(group)) continue;
      at = at === undefined ? until : Math.min(at, until);
    }
    return at;
  }

  #forget(queued: QueuedMessage): void {
    this.#entries.delete(queued.id);
    this.#size -= 1;
    if (queued.message !== undefined) this.#heldBytes -= queued.bytes;
    queued.message = undefined;
    this.#delivered.add(queued.id);
    if (this.#delivered.size > this.#rememberDelivered) {
      const oldest = this.#delivered.values().next().value;
      if (oldest !== undefined) this.#delivered.delete(oldest);
    }
  }
}
