import { describe, expect, it } from 'vitest';
import { type Batch, DeliveryQueue } from '../../../../local/sns/delivery-queue.js';
import type { OutboxMessage } from '../../../../local/sns/outbox-store.js';

let seq = 0;
function message(group: string, data = `d${seq}`): OutboxMessage {
  const id = String(seq++).padStart(6, '0');
  return {
    id,
    sqsMessageId: `sqs-${id}`,
    group,
    notification: { messageId: id, topicArn: 't', message: data, timestamp: 't', attributes: {} },
  };
}

const ids = (batch: Batch | undefined): string[] => batch?.messages.map((m) => m.id) ?? [];
const none = new Set<string>();
const at = () => 0;

describe('Class: DeliveryQueue', () => {
  it('serves a group that was idle before the busy ones, then the busy ones in turn', () => {
    const queue = new DeliveryQueue({ maxHeldBytes: 1e9 });
    const a = Array.from({ length: 30 }, () => message('A'));
    const b = Array.from({ length: 30 }, () => message('B'));
    for (const m of [...a, ...b]) queue.add(m);
    for (const expected of [a.slice(0, 10), b.slice(0, 10)]) {
      const batch = queue.take(10, 0);
      expect(ids(batch)).toEqual(expected.map((m) => m.id));
      if (batch !== undefined) queue.settle(batch, none, at);
    }
    const quiet = message('Q');
    queue.add(quiet);
    // Q was never served: it goes first; then A, served longer ago than B.
    expect(ids(queue.take(1, 0))).toEqual([quiet.id]);
    expect(ids(queue.take(10, 0))).toEqual(a.slice(10, 20).map((m) => m.id));
    expect(ids(queue.take(10, 0))).toEqual(b.slice(10, 20).map((m) => m.id));
  });

  it('puts a group that was never served before busy ones, even when their queues ran dry', () => {
    let clock = 0;
    const queue = new DeliveryQueue({ maxHeldBytes: 1e9 });
    // A and B are busy: served, emptied, and given more at once, as a steady stream does.
    for (const group of ['A', 'B']) {
      queue.add(message(group));
      const batch = queue.take(10, clock);
      if (batch !== undefined) queue.settle(batch, none, at);
      clock += 1;
    }
    const busy = [message('A'), message('B')];
    for (const m of busy) queue.add(m);
    const quiet = message('Q');
    queue.add(quiet);
    expect(ids(queue.take(1, clock))).toEqual([quiet.id]);
    expect(ids(queue.take(1, clock))).toEqual([busy[0]?.id]);
  });

  it('never puts a group in two batches at once', () => {
    const queue = new DeliveryQueue({ maxHeldBytes: 1e9 });
    const a = Array.from({ length: 15 }, () => message('A'));
    for (const m of a) queue.add(m);
    expect(ids(queue.take(10, 0))).toHaveLength(10);
    expect(queue.take(10, 0)).toBeUndefined();
  });

  it('holds a reserved place: later messages of its group wait until it is stored', () => {
    const queue = new DeliveryQueue({ maxHeldBytes: 1e9 });
    const first = message('A');
    const second = message('A');
    const other = message('B');
    queue.reserve(first);
    queue.add(second);
    queue.add(other);
    expect(ids(queue.take(10, 0))).toEqual([other.id]);
    queue.fulfil(first);
    expect(ids(queue.take(10, 0))).toEqual([first.id, second.id]);
  });

  it('drops a released place and lets the rest of its group go', () => {
    const queue = new DeliveryQueue({ maxHeldBytes: 1e9 });
    const lost = message('A');
    const next = message('A');
    queue.reserve(lost);
    queue.add(next);
    queue.release(lost.id);
    expect(ids(queue.take(10, 0))).toEqual([next.id]);
    expect(queue.size).toBe(1);
    expect(queue.has(lost.id)).toBe(false);
  });

  it('keeps a failed message and the rest of its group, held until the retry time', () => {
    const queue = new DeliveryQueue({ maxHeldBytes: 1e9 });
    const [a1, a2, b1] = [message('A'), message('A'), message('B')];
    for (const m of [a1, a2, b1]) queue.add(m);
    const batch = queue.take(10, 0);
    if (batch === undefined || a1 === undefined || a2 === undefined || b1 === undefined) {
      throw new Error('no batch');
    }
    const { delivered, failedGroups } = queue.settle(batch, new Set([a2.id]), (n) => 100 * n);
    expect(delivered).toEqual([a1.id, b1.id]);
    expect(failedGroups).toEqual(new Map([['A', 1]]));
    expect(queue.take(10, 99)).toBeUndefined();
    expect(queue.nextRetryAt(0)).toBe(100);
    expect(ids(queue.take(10, 100))).toEqual([a2.id]);
    // Delivered ids are remembered, so a scan that read them before removal adds none again.
    expect(queue.add(a1)).toBe(false);
  });

  it('holds bodies up to maxHeldBytes and leaves the rest for the outbox', () => {
    const queue = new DeliveryQueue({ maxHeldBytes: 3_100 });
    const big = Array.from({ length: 4 }, () => message('A', 'x'.repeat(500)));
    for (const m of big) queue.add(m);
    const batch = queue.take(10, 0);
    expect(batch?.messages.map((m) => m.message !== undefined)).toEqual([true, true, false, false]);
    expect(queue.heldBytes).toBeLessThanOrEqual(3_100);
    const [, , third] = batch?.messages ?? [];
    if (batch === undefined || third === undefined) throw new Error('no batch');
    queue.fill(third, big[2] as OutboxMessage);
    expect(third.message).toBe(big[2]);
    queue.settle(batch, none, at);
    expect(queue.heldBytes).toBe(0);
    expect(queue.size).toBe(0);
  });
});
