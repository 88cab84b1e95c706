/** The Web Function bench's delivery check must tell clean deliveries from every fault. */
import { describe, expect, it } from 'vitest';
import { DeliveryOrder, totalDeliveries } from '../../../bench/lib/delivery-order.js';

describe('DeliveryOrder', () => {
  it('takes a clean, in-order run per channel as new', () => {
    const order = new DeliveryOrder();
    for (const seq of [0, 2, 4]) expect(order.accept('a', seq)).toBe('new');
    // Another channel's numbers are its own.
    for (const seq of [1, 3]) expect(order.accept('b', seq)).toBe('new');
    expect(order.counts).toEqual({ delivered: 5, duplicates: 0, outOfOrder: 0 });
  });

  it('counts a second copy as a duplicate, not as a delivery', () => {
    const order = new DeliveryOrder();
    order.accept('a', 0);
    order.accept('a', 1);
    expect(order.accept('a', 0)).toBe('duplicate');
    expect(order.counts).toEqual({ delivered: 2, duplicates: 1, outOfOrder: 0 });
  });

  it('counts an event below the highest so far as out of order', () => {
    const order = new DeliveryOrder();
    order.accept('a', 0);
    order.accept('a', 5);
    expect(order.accept('a', 3)).toBe('out-of-order');
    // The highest stays 5: 4 is late too.
    expect(order.accept('a', 4)).toBe('out-of-order');
    expect(order.accept('a', 6)).toBe('new');
    expect(order.counts).toEqual({ delivered: 5, duplicates: 0, outOfOrder: 2 });
  });
});

describe('totalDeliveries', () => {
  it('adds subscribers up and reports what never came as lost', () => {
    const a = new DeliveryOrder();
    const b = new DeliveryOrder();
    a.accept('x', 0);
    a.accept('x', 1);
    a.accept('x', 1);
    b.accept('y', 1);
    b.accept('y', 0);
    expect(totalDeliveries([a, b], 5)).toEqual({
      expected: 5,
      delivered: 4,
      duplicates: 1,
      outOfOrder: 1,
      lost: 1,
    });
  });
});
