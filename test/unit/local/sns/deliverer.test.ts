import fc from 'fast-check';
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
  outboxMessage,
} from '../../../../local/sns/deliverer.js';
import { OutboxIds } from '../../../../local/sns/outbox-ids.js';
import {
  MemoryOutbox,
  type OutboxMessage,
  type OutboxStore,
} from '../../../../local/sns/outbox-store.js';
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
  return outboxMessage(id, `sqs-${data}`, {
    messageId,
    topicArn: TOPIC,
    message: data,
    timestamp: new Date().toISOString(),
    attributes,
  });
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
  const events: string[] = [];
  for (;;) {
    const page = await log.read(channel, events.length);
    if (page.length === 0) return events;
    events.push(...page.map((e) => e.data));
  }
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

/** The channels of the messages in a deliver call. */
function channelsOf(records: readonly DeliveryRecord[]): Set<string> {
  return new Set(
    records.map((r) => {
      const parsed = parseSnsEnvelope(r.body);
      if (!parsed.ok) throw new Error(parsed.message);
      return parsed.notification.message.channel ?? '';
    }),
  );
}

/** An outbox that counts its calls and can be made to fail them. */
function countingOutbox(inner: MemoryOutbox) {
  const counts = { read: 0, get: 0, remove: 0 };
  const failures = { read: 0, get: 0, remove: 0 };
  const call = <T>(name: keyof typeof counts, run: () => Promise<T>): Promise<T> => {
    counts[name] += 1;
    if (failures[name] > 0) {
      failures[name] -= 1;
      return Promise.reject(new Error('store down'));
    }
    return run();
  };
  const outbox: Pick<OutboxStore, 'read' | 'get' | 'remove'> = {
    read: (options) => call('read', () => inner.read(options)),
    get: (ids) => call('get', () => inner.get(ids)),
    remove: (ids) => call('remove', () => inner.remove(ids)),
  };
  return { outbox, counts, failures };
}

describe('Class: Deliverer', () => {
  it('drains on start what was stored before, each channel in publish order, batches of at most batchSize', async () => {
    const outbox = new MemoryOutbox();
    const messages = Array.from({ length: 25 }, (_, i) => message(`c${i % 3}`, `m${i}`));
    await outbox.add(messages);
    const log = new MemoryEventLog();
    const { deliver, calls } = writer(log);
    const d = deliverer({ outbox, deliver });
    d.start();
    await d.drained();
    expect(calls.every((c) => c.length <= 10)).toBe(true);
    expect(calls.flat().sort()).toEqual(messages.map((m) => m.notification.message).sort());
    expect(outbox.size).toBe(0);
    for (const channel of ['c0', 'c1', 'c2']) {
      const sent = messages
        .filter((m) => m.group === `channel:${channel}`)
        .map((m) => m.notification.message);
      expect(await stored(log, channel)).toEqual(sent);
    }
    await d.stop();
  });

  it('delivers what it is handed at once, with no outbox read and no timer having to fire', async () => {
    const memory = new MemoryOutbox();
    const { outbox, counts } = countingOutbox(memory);
    const { deliver, calls } = writer(new MemoryEventLog());
    const d = deliverer({ outbox, deliver });
    d.start();
    await d.drained();
    const reads = counts.read;
    const now = [message('c', 'now')];
    await memory.add(now);
    d.enqueue(now);
    await Promise.resolve();
    await Promise.resolve();
    expect(calls).toEqual([['now']]);
    expect(counts.read).toBe(reads);
    await d.stop();
    expect(memory.size).toBe(0);
  });

  it('finds messages stored but not handed over at the slow safety poll', async () => {
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

  it('runs up to `concurrency` deliveries at once, never two holding the same channel', async () => {
    const outbox = new MemoryOutbox();
    const messages = Array.from({ length: 60 }, (_, i) => message(`c${i % 4}`, `m${i}`));
    await outbox.add(messages);
    const log = new MemoryEventLog();
    const real = writer(log);
    const inFlight: Set<string>[] = [];
    let most = 0;
    const deliver: Deliver = async (records) => {
      const channels = channelsOf(records);
      for (const other of inFlight) {
        for (const channel of channels) expect(other.has(channel)).toBe(false);
      }
      inFlight.push(channels);
      most = Math.max(most, inFlight.length);
      await new Promise((resolve) => setTimeout(resolve, 10));
      inFlight.splice(inFlight.indexOf(channels), 1);
      return real.deliver(records);
    };
    const d = deliverer({ outbox, deliver, concurrency: 3 });
    d.start();
    const drained = d.drained();
    await vi.advanceTimersByTimeAsync(1_000);
    await drained;
    expect(most).toBe(3);
    for (const channel of ['c0', 'c1', 'c2', 'c3']) {
      const sent = messages
        .filter((m) => m.group === `channel:${channel}`)
        .map((m) => m.notification.message);
      expect(await stored(log, channel)).toEqual(sent);
    }
    await d.stop();
  });

  it('a burst on one channel delays a quiet channel by one delivery at most', async () => {
    const outbox = new MemoryOutbox();
    const burst = Array.from({ length: 5_000 }, (_, i) => message('hot', `h${i}`));
    const quiet = message('quiet', 'q');
    await outbox.add([...burst, quiet]);
    const log = new MemoryEventLog();
    const real = writer(log);
    const hotCallsStarted: number[] = [];
    let hotCalls = 0;
    const deliver: Deliver = async (records) => {
      const channels = channelsOf(records);
      if (channels.has('hot')) hotCalls += 1;
      if (channels.has('quiet')) hotCallsStarted.push(hotCalls);
      await new Promise((resolve) => setTimeout(resolve, 10));
      return real.deliver(records);
    };
    const d = deliverer({ outbox, deliver });
    d.start();
    await vi.advanceTimersByTimeAsync(50);
    expect(await stored(log, 'quiet')).toEqual(['q']);
    expect(hotCallsStarted).toEqual([1]);

    // The same for a message handed over while the burst is delivered.
    const later = message('quiet', 'q2');
    await outbox.add([later]);
    d.enqueue([later]);
    const before = hotCalls;
    await vi.advanceTimersByTimeAsync(10);
    expect(await stored(log, 'quiet')).toEqual(['q', 'q2']);
    expect(hotCalls - before).toBeLessThanOrEqual(1);
    expect((await stored(log, 'hot')).length).toBeLessThan(200);
    const stopping = d.stop();
    await vi.advanceTimersByTimeAsync(10);
    await stopping;
  });

  it('keeps each channel in publish order and delivers every message once, whatever fails when', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            channel: fc.constantFrom('A', 'B', 'C'),
            failNext: fc.boolean(),
            throwNext: fc.boolean(),
            pauseMs: fc.integer({ min: 0, max: 30 }),
          }),
          { minLength: 1, maxLength: 60 },
        ),
        fc.integer({ min: 1, max: 4 }),
        async (steps, concurrency) => {
          const outbox = new MemoryOutbox();
          const log = new FlakyEventLog();
          const real = writer(log);
          let throws = 0;
          const delivered = new Map<string, number>();
          const deliver: Deliver = async (records) => {
            await new Promise((resolve) => setTimeout(resolve, 3));
            if (throws > 0) {
              throws -= 1;
              throw new Error('writer crashed');
            }
            const result = await real.deliver(records);
            const failed = new Set(result.failedMessageIds);
            for (const r of records) {
              if (!failed.has(r.messageId)) {
                delivered.set(r.messageId, (delivered.get(r.messageId) ?? 0) + 1);
              }
            }
            return result;
          };
          const d = deliverer({ outbox, deliver, concurrency, retry: { baseMs: 5, capMs: 20 } });
          d.start();
          const sent: OutboxMessage[] = [];
          for (const [i, step] of steps.entries()) {
            if (step.failNext) log.failures.set(step.channel, 1);
            if (step.throwNext) throws += 1;
            const m = message(step.channel, `${step.channel}${i}`);
            sent.push(m);
            await outbox.add([m]);
            d.enqueue([m]);
            await vi.advanceTimersByTimeAsync(step.pauseMs);
          }
          const drained = d.drained();
          await vi.advanceTimersByTimeAsync(60_000);
          await drained;
          await d.stop();
          for (const channel of ['A', 'B', 'C']) {
            expect(await stored(log, channel)).toEqual(
              sent
                .filter((m) => m.group === `channel:${channel}`)
                .map((m) => m.notification.message),
            );
          }
          expect(outbox.size).toBe(0);
          expect([...delivered.values()].every((n) => n === 1)).toBe(true);
          expect(delivered.size).toBe(sent.length);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('delivers a channel in the order its messages were handed over, even when a later write finishes first', async () => {
    const outbox = new MemoryOutbox();
    const log = new MemoryEventLog();
    const { deliver } = writer(log);
    const d = deliverer({ outbox, deliver });
    d.start();
    await d.drained();
    const slow = [message('A', 'first')];
    const fast = [message('A', 'second'), message('B', 'other')];
    const slowTicket = d.reserve(slow);
    const fastTicket = d.reserve(fast);
    await outbox.add(fast);
    fastTicket.stored();
    await vi.advanceTimersByTimeAsync(0);
    expect(await stored(log, 'B')).toEqual(['other']);
    expect(await stored(log, 'A')).toEqual([]);
    await outbox.add(slow);
    slowTicket.stored();
    await d.drained();
    expect(await stored(log, 'A')).toEqual(['first', 'second']);

    // A write that failed gives its place up.
    const failed = d.reserve([message('A', 'never stored')]);
    const after = [message('A', 'third')];
    const afterTicket = d.reserve(after);
    await outbox.add(after);
    afterTicket.stored();
    failed.abandoned();
    await d.drained();
    expect(await stored(log, 'A')).toEqual(['first', 'second', 'third']);
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
    expect(calls).toEqual([['a1', 'a2', 'b1', 'b2']]);
    expect(await stored(log, 'B')).toEqual(['b1', 'b2']);
    expect(await stored(log, 'A')).toEqual([]);

    // B publishes more while A waits: B is not held up.
    const more = [message('B', 'b3'), message('A', 'a3')];
    await outbox.add(more);
    d.enqueue(more);
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

  it('retries a failed outbox read, then delivers what was handed over meanwhile after it', async () => {
    const memory = new MemoryOutbox();
    const left = message('A', 'left');
    await memory.add([left]);
    const { outbox, failures } = countingOutbox(memory);
    failures.read = 1;
    const { deliver, calls } = writer(new MemoryEventLog());
    const d = deliverer({ outbox, deliver });
    d.start();
    const fresh = message('A', 'fresh');
    await memory.add([fresh]);
    d.enqueue([fresh]);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toEqual([['left', 'fresh']]);
    await d.stop();
  });

  it('delivers what is handed over during the start-up read after what the outbox held', async () => {
    const memory = new MemoryOutbox();
    const leftovers = Array.from({ length: 150 }, (_, i) => message('A', `old${i}`));
    await memory.add(leftovers);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reads = 0;
    const outbox: Pick<OutboxStore, 'read' | 'get' | 'remove'> = {
      read: async (options) => {
        if (reads++ === 1) await gate;
        return memory.read(options);
      },
      get: (ids) => memory.get(ids),
      remove: (ids) => memory.remove(ids),
    };
    const log = new MemoryEventLog();
    const { deliver } = writer(log);
    const d = deliverer({ outbox, deliver });
    d.start();
    await vi.advanceTimersByTimeAsync(0);
    const fresh = message('A', 'fresh');
    await memory.add([fresh]);
    d.enqueue([fresh]);
    release();
    const drained = d.drained();
    await vi.advanceTimersByTimeAsync(0);
    await drained;
    expect(await stored(log, 'A')).toEqual([
      ...leftovers.map((m) => m.notification.message),
      'fresh',
    ]);
    await d.stop();
  });

  it('retries a failed removal, with backoff, without delivering the message again', async () => {
    const memory = new MemoryOutbox();
    await memory.add([message('A', 'x')]);
    const { outbox, failures } = countingOutbox(memory);
    failures.remove = 2;
    const { deliver, calls } = writer(new MemoryEventLog());
    const d = deliverer({ outbox, deliver });
    d.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(memory.size).toBe(1);
    // A look through the outbox meanwhile finds the message but does not deliver it again.
    d.scan();
    await vi.advanceTimersByTimeAsync(100);
    expect(memory.size).toBe(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(memory.size).toBe(0);
    expect(calls).toEqual([['x']]);
    await d.stop();
  });

  it('holds bodies up to maxHeldBytes and reads the rest back from the outbox when their turn comes', async () => {
    const memory = new MemoryOutbox();
    const { outbox, counts } = countingOutbox(memory);
    const messages = Array.from({ length: 30 }, (_, i) => message('A', `${i}`.padEnd(1_000, '.')));
    await memory.add(messages);
    const log = new MemoryEventLog();
    const real = writer(log);
    let mostHeld = 0;
    let d: Deliverer | undefined;
    const deliver: Deliver = async (records) => {
      mostHeld = Math.max(mostHeld, d?.heldBytes ?? 0);
      return real.deliver(records);
    };
    d = deliverer({ outbox, deliver, maxHeldBytes: 5_000 });
    d.start();
    await d.drained();
    expect(await stored(log, 'A')).toEqual(messages.map((m) => m.notification.message));
    expect(counts.get).toBeGreaterThan(0);
    // At most the bodies under the limit plus one batch read back.
    expect(mostHeld).toBeLessThanOrEqual(5_000 + 10 * 2_600);
    expect(d.heldBytes).toBe(0);
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

  it('stop() waits for the deliveries in flight and leaves no timer behind', async () => {
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
    d.scan();
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
    const left = [message('A', 'a1'), message('B', 'b1'), message('A', 'a2')];
    await outbox.add(left);
    first.enqueue(left);
    await vi.advanceTimersByTimeAsync(0);
    await first.stop();
    expect(outbox.size).toBe(3);

    const log = new MemoryEventLog();
    const { deliver, calls } = writer(log);
    const second = deliverer({ outbox, deliver });
    second.start();
    await second.drained();
    expect(calls).toEqual([['a1', 'a2', 'b1']]);
    expect(await stored(log, 'A')).toEqual(['a1', 'a2']);
    await second.stop();
  });

  it('refuses a batch size or concurrency that is not a positive integer', () => {
    const outbox = new MemoryOutbox();
    const { deliver } = writer(new MemoryEventLog());
    expect(() => deliverer({ outbox, deliver, concurrency: 0 })).toThrow(
      'Deliverer: concurrency must be a positive integer, got 0',
    );
    expect(() => deliverer({ outbox, deliver, batchSize: 2.5 })).toThrow(
      'Deliverer: batchSize must be a positive integer, got 2.5',
    );
  });
});
