/**
 * What one subscriber received, checked against the guarantee (DESIGN.md, guarantee 2):
 * every event once, in order per channel. Events carry a sequence number that rises
 * with append order on each channel; a second copy is a duplicate, a number below the
 * channel's highest so far arrived out of order, and whatever never came is lost.
 */
export type Arrival = 'new' | 'duplicate' | 'out-of-order';

export interface DeliveryCounts {
  /** Distinct events received. */
  readonly delivered: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
}

export class DeliveryOrder {
  readonly #seen = new Map<string, Set<number>>();
  readonly #highest = new Map<string, number>();
  #delivered = 0;
  #duplicates = 0;
  #outOfOrder = 0;

  accept(channel: string, seq: number): Arrival {
    let seen = this.#seen.get(channel);
    if (seen === undefined) {
      seen = new Set();
      this.#seen.set(channel, seen);
    }
    if (seen.has(seq)) {
      this.#duplicates += 1;
      return 'duplicate';
    }
    seen.add(seq);
    this.#delivered += 1;
    const highest = this.#highest.get(channel);
    if (highest !== undefined && seq < highest) {
      this.#outOfOrder += 1;
      return 'out-of-order';
    }
    this.#highest.set(channel, seq);
    return 'new';
  }

  get counts(): DeliveryCounts {
    return {
      delivered: this.#delivered,
      duplicates: this.#duplicates,
      outOfOrder: this.#outOfOrder,
    };
  }
}

/** Adds up subscribers' counts; `expected` deliveries in all gives the lost ones. */
export function totalDeliveries(
  orders: readonly DeliveryOrder[],
  expected: number,
): DeliveryCounts & { readonly expected: number; readonly lost: number } {
  let delivered = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  for (const order of orders) {
    const c = order.counts;
    delivered += c.delivered;
    duplicates += c.duplicates;
    outOfOrder += c.outOfOrder;
  }
  return { expected, delivered, duplicates, outOfOrder, lost: Math.max(0, expected - delivered) };
}
