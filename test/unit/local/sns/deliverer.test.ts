import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventLog } from '../../../../functions/core/event-log.js';
import { MemoryEventLog } from '../../../../functions/core/memory-event-log.js';
import type { QueueRecord, Rejection } from '../../../../functions/writer/ports.js';
import { processBatch } from '../../../../functions/writer/process-batch.js';
import { parseSnsEnvelope } from '../../../../functions/writer/sns-envelope.js';
import {
  type Deliver,
  Deliverer,
  type DelivererOptions,
  type DeliveryRecord,
  deliveryGroup,
} from '../../../../local/sns/deliverer.js';
import { OutboxIds } from '../../../../local/sns/outbox-ids.js';
import { MemoryOutbox, type OutboxMessage } from '../../../../local/sns/outbox-store.js';
import type { EnvelopeAttribute } from '../../../../local/sns/validate.js';

const TOPIC = 'arn:aws:sns:us-east-1:000000000000:sse-pubsub-local';
const silent = { info() {}, error() {} };

let ids: OutboxIds;
let counter: number;

beforeEach(() => {
  vi.useFakeTimers();
  counter = 0;
  ids = new OutboxIds(Date.now, () => `u-${++counter}`);
});

afterEach(() => {
  vi.useRealTimers();
});

/** A stored message as the endpoint would store it. */
function message(channel: string | undefined, data: string): OutboxMessage {
  const { id } = ids.next();
  const messageId = `sns-${data}`;
  const attributes: Record<string, EnvelopeAttribute> =
    channel === undefined ? {} : { channel: { Type: 'String', Value: channel } };
  return {
    id,
    sqsMessageId: `sqs-${data}`,
    group: deliveryGroup(attributes, messageId),
    notification: {
      messageId,
      topicArn: TOPIC,
      message: data,
      timestamp: new Date().toISOString(),
      attributes,
    },
  };
}

/** What a deliver call was given: the payloads, read back from the envelopes. */
function payloads(records: readonly DeliveryRecord[]): string[] {
  return records.map((r) => {
    const parsed = parseSnsEnvelope(r.body);
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.notification.message.data;
  });
}

/** An event log whose appends to some channels fail a given number of times. */
class FlakyEventLog implements EventLog {
  readonly inner = new MemoryEventLog();
  readonly failures = new Map<string, number>();

  async append(...args: Parameters<EventLog['append']>) {
    const [channel] = args;
    const left = this.failures.get(channel) ?? 0;
    if (left > 0) {
      this.failures.set(channel, left - 1);
      throw new Error(`throttled on ${channel}`);
    }
    return this.inner.append(...args);
  }

  read(...args: Parameters<EventLog['read']>) {
    return this.inner.read(...args);
  }

  retained(...args: Parameters<EventLog['retained']>) {
    return this.inner.retained(...args);
  }
}

/** The real writer (processBatch) over an event log, recording what it was given. */
function writer(eventLog: EventLog) {
  const calls: string[][] = [];
  const deadLetters: { record: QueueRecord; rejection: Rejection }[] = [];
  const deliver: Deliver = async (records) => {
    calls.push(payloads(records));
    return processBatch(records, {
      eventLog,
      deadLetters: {
        send: async (record, rejection) => void deadLetters.push({ record, rejection }),
      },
      log: silent,
      metrics: { rejected() {}, appended() {}, duplicates() {}, failed() {} },
    });
  };
  return { deliver, calls, deadLetters };
}

async function stored(log: EventLog, channel: string): Promise<string[]> {
  return (await log.read(channel, 0)).map((e) => e.data);
}

function deliverer(
  options: Partial<DelivererOptions> & Pick<DelivererOptions, 'outbox' | 'deliver'>,
) {
  return new Deliverer({
    log: silent,
    retry: { baseMs: 100, capMs: 1_000 },
    random: () => 1,
    safetyPollMs: 30_000,
    ...options,
  });
}

describe('Class: Deliverer', () => {
  it('drains on start what was stored before, in publish order, in batches of batchSize', async () => {
    const outbox = new MemoryOutbox();
    const messages = Array.from({ length: 25 }, (_, i) => message(`c${i % 3}`, `m${i}`));
    await outbox.add(messages);
    const log = new MemoryEventLog();
    const { deliver, calls } = writer(log);
    const d = deliverer({ outbox, deliver });
    d.start();
    await d.drained();
    expect(calls.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(calls.flat()).toEqual(messages.map((m) => m.notification.message));
    expect(outbox.size).toBe(0);
    expect(await stored(log, 'c0')).toEqual([
      'm0',
      'm3',
      'm6',
      'm9',
      'm12',
      'm15',
      'm18',
      'm21',
      'm24',
    ]);
    await d.stop();
  });

  it('delivers at once when notified, with no timer having to fire', async () => {
    const outbox = new MemoryOutbox();
    const { deliver, calls } = writer(new MemoryEventLog());
    const d = deliverer({ outbox, deliver });
    d.start();
    await d.drained();
    await outbox.add([message('c', 'now')]);
    d.notify();
    await d.drained();
    expect(calls).toEqual([['now']]);
    await d.stop();
  });

  it('finds messages stored without a notify at the slow safety poll', async () => {
    const outbox = new MemoryOutbox();
    const { deliver, calls } = writer(new MemoryEventLog());
    const d = deliverer({ outbox, deliver, safetyPollMs: 5_000 });
    d.start();
    await d.drained();
    await outbox.add([message('c', 'quiet')]);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([['quiet']]);
    await d.stop();
  });

  it('retries a failed channel with backoff, holding back its later messages but no other channel', async () => {
    const outbox = new MemoryOutbox();
    const log = new FlakyEventLog();
    log.failures.set('A', 2);
    const { deliver, calls } = writer(log);
    const d = deliverer({ outbox, deliver });
    await outbox.add([
      message('A', 'a1'),
      message('B', 'b1'),
      message('A', 'a2'),
      message('B', 'b2'),
    ]);
    d.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([['a1', 'b1', 'a2', 'b2']]);
    expect(await stored(log, 'B')).toEqual(['b1', 'b2']);
    expect(await stored(log, 'A')).toEqual([]);

    // B publishes more while A waits: B is not held up.
    await outbox.add([message('B', 'b3'), message('A', 'a3')]);
    d.notify();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.at(-1)).toEqual(['b3']);

    // First retry after 100 ms (fails again), second after 200 more.
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.at(-1)).toEqual(['a1', 'a2', 'a3']);
    await vi.advanceTimersByTimeAsync(199);
    expect(calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.at(-1)).toEqual(['a1', 'a2', 'a3']);

    await d.drained();
    expect(await stored(log, 'A')).toEqual(['a1', 'a2', 'a3']);
    expect(await stored(log, 'B')).toEqual(['b1', 'b2', 'b3']);
    expect(outbox.size).toBe(0);
    await d.stop();
  });

  it('counts every record of a deliver call that throws as failed, and retries them', async () => {
    const outbox = new MemoryOutbox();
    const log = new MemoryEventLog();
    const real = writer(log);
    let throws = 1;
    const deliver: Deliver = async (records) => {
      if (throws-- > 0) throw new Error('writer crashed');
      return real.deliver(records);
    };
    const errors: string[] = [];
    const d = deliverer({ outbox, deliver, log: { info() {}, error: (m) => void errors.push(m) } });
    await outbox.add([message('A', 'x'), message('B', 'y')]);
    d.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(outbox.size).toBe(2);
    expect(errors).toContain('delivery to the writer failed');
    await vi.advanceTimersByTimeAsync(100);
    await d.drained();
    expect(await stored(log, 'A')).toEqual(['x']);
    expect(await stored(log, 'B')).toEqual(['y']);
    await d.stop();
  });

  it('retries a failed outbox read', async () => {
    const outbox = new MemoryOutbox();
    await outbox.add([message('A', 'x')]);
    let failures = 1;
    const flaky = {
      read: (options: Parameters<MemoryOutbox['read']>[0]) =>
        failures-- > 0 ? Promise.reject(new Error('store down')) : outbox.read(options),
      remove: (ids: readonly string[]) => outbox.remove(ids),
    };
    const { deliver, calls } = writer(new MemoryEventLog());
    const d = deliverer({ outbox: flaky, deliver });
    d.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toEqual([['x']]);
    await d.stop();
  });

  it('retries a failed removal, with backoff, without delivering the message again', async () => {
    const outbox = new MemoryOutbox();
    await outbox.add([message('A', 'x')]);
    let failures = 2;
    const flaky = {
      read: (options: Parameters<MemoryOutbox['read']>[0]) => outbox.read(options),
      remove: (ids: readonly string[]) =>
        failures-- > 0 ? Promise.reject(new Error('store down')) : outbox.remove(ids),
    };
    const { deliver, calls } = writer(new MemoryEventLog());
    const d = deliverer({ outbox: flaky, deliver });
    d.start();
    // Removal fails after the delivery, and again at once on the next round: back off.
    await vi.advanceTimersByTimeAsync(0);
    expect(outbox.size).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(outbox.size).toBe(0);
    expect(calls).toEqual([['x']]);
    await d.stop();
  });

  it('delivers a message without channel (SNS accepts it; the writer dead-letters it) without blocking others', async () => {
    const outbox = new MemoryOutbox();
    const log = new MemoryEventLog();
    const { deliver, deadLetters } = writer(log);
    await outbox.add([message(undefined, 'orphan'), message('A', 'fine')]);
    const d = deliverer({ outbox, deliver });
    d.start();
    await d.drained();
    expect(deadLetters.map((l) => l.rejection.code)).toEqual(['MISSING_CHANNEL']);
    expect(await stored(log, 'A')).toEqual(['fine']);
    expect(outbox.size).toBe(0);
    await d.stop();
  });

  it('stop() waits for the round in flight and leaves no timer behind', async () => {
    const outbox = new MemoryOutbox();
    await outbox.add([message('A', 'x')]);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const deliver: Deliver = async () => {
      await gate;
      return { failedMessageIds: ['sqs-x'] };
    };
    const d = deliverer({ outbox, deliver });
    d.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    let stopped = false;
    const stopping = d.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    release();
    await stopping;
    // The failed message would have armed a retry timer; stop() leaves none.
    expect(vi.getTimerCount()).toBe(0);
    d.notify();
    d.start();
    expect(vi.getTimerCount()).toBe(0);
    expect(outbox.size).toBe(1);
  });

  it('a new deliverer drains, in order, what a stopped one left behind', async () => {
    const outbox = new MemoryOutbox();
    const failing: Deliver = async (records) => ({
      failedMessageIds: records.map((r) => r.messageId),
    });
    const first = deliverer({ outbox, deliver: failing });
    first.start();
    await outbox.add([message('A', 'a1'), message('B', 'b1'), message('A', 'a2')]);
    first.notify();
    await vi.advanceTimersByTimeAsync(0);
    await first.stop();
    expect(outbox.size).toBe(3);

    const log = new MemoryEventLog();
    const { deliver, calls } = writer(log);
    const second = deliverer({ outbox, deliver });
    second.start();
    await second.drained();
    expect(calls).toEqual([['a1', 'b1', 'a2']]);
    expect(await stored(log, 'A')).toEqual(['a1', 'a2']);
    await second.stop();
  });
});
