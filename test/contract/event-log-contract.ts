import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EventLog, NewEvent, StoredEvent } from '../../functions/core/event-log.js';

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public now = Date.UTC(2026, 0, 1)) {}
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

export interface EventLogFactoryOptions {
  readonly retentionMs: number;
  readonly clock: () => number;
}

export type EventLogFactory = (options: EventLogFactoryOptions) => Promise<EventLog> | EventLog;

const RETENTION_MS = 60_000;

function events(count: number, prefix = 'e'): NewEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    event: 'message',
    data: `${prefix}-${i + 1}`,
    dedupeKey: `${prefix}-${i + 1}-${randomUUID()}`,
  }));
}

function positions(stored: readonly StoredEvent[]): number[] {
  return stored.map((e) => e.position);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Reads a channel to the end, page by page, the way the stream session will. */
export async function readAll(log: EventLog, channel: string, after = 0): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await log.read(channel, cursor, { limit: 1000 });
    if (page.length === 0) return all;
    all.push(...page);
    cursor = page[page.length - 1]?.position ?? cursor;
  }
}

/**
 * The behaviour every {@link EventLog} must have. Each test uses its own channel so the
 * suite can share one store.
 */
export function describeEventLogContract(name: string, factory: EventLogFactory): void {
  describe(`EventLog contract: ${name}`, () => {
    let clock: ManualClock;
    let log: EventLog;
    let channel: string;

    beforeEach(async () => {
      clock = new ManualClock();
      log = await factory({ retentionMs: RETENTION_MS, clock: clock.read });
      channel = `test/${randomUUID()}`;
    });

    describe('Method: append', () => {
      it('assigns positions 1, 2, 3… in the order given', async () => {
        const outcomes = await log.append(channel, events(3));
        expect(outcomes).toEqual([
          { position: 1, duplicate: false },
          { position: 2, duplicate: false },
          { position: 3, duplicate: false },
        ]);
        const more = await log.append(channel, events(2, 'f'));
        expect(more.map((o) => o.position)).toEqual([4, 5]);
      });

      it('keeps channels independent', async () => {
        const other = `${channel}-other`;
        await log.append(channel, events(2));
        expect(await log.append(other, events(1))).toEqual([{ position: 1, duplicate: false }]);
        expect(positions(await readAll(log, other))).toEqual([1]);
      });

      it('stores an append larger than one storage transaction, gap-free', async () => {
        await log.append(channel, events(130));
        expect(positions(await readAll(log, channel))).toEqual(range(1, 130));
      });

      it('stores payloads verbatim: line breaks, unicode, JSON, large text', async () => {
        const payloads = [
          'line one\nline two\r\nline three\rend',
          'emoji 🎉 and ünïcödé and 中文',
          JSON.stringify({ nested: { a: [1, 2, 3] }, quote: '"' }),
          'x'.repeat(200_000),
          '',
          'data: id: event: forged?\n\nid: 999',
        ];
        await log.append(
          channel,
          payloads.map((data, i) => ({ event: `kind.${i}`, data, dedupeKey: `k${i}` })),
        );
        const stored = await readAll(log, channel);
        expect(stored.map((e) => e.data)).toEqual(payloads);
        expect(stored.map((e) => e.event)).toEqual(payloads.map((_, i) => `kind.${i}`));
        expect(stored.every((e) => e.channel === channel)).toBe(true);
      });

      it('stamps the append time, never earlier than the previous event on the channel', async () => {
        await log.append(channel, events(1));
        clock.advance(-5_000); // a writer whose clock lags behind
        await log.append(channel, events(1, 'late'));
        const [first, second] = await readAll(log, channel);
        expect(first?.time).toBe(clock.now + 5_000);
        expect(second?.time).toBe(first?.time);
      });
    });

    describe('Method: append (dedupe)', () => {
      it('stores a redelivered event once and reports its original position', async () => {
        await log.append(channel, [{ event: 'message', data: 'a', dedupeKey: 'k1' }]);
        await log.append(channel, events(2));
        const again = await log.append(channel, [
          { event: 'message', data: 'a', dedupeKey: 'k1' },
          { event: 'message', data: 'b', dedupeKey: 'k2' },
        ]);
        expect(again).toEqual([
          { position: 1, duplicate: true },
          { position: 4, duplicate: false },
        ]);
        expect((await readAll(log, channel)).map((e) => e.data)).toEqual(['a', 'e-1', 'e-2', 'b']);
      });

      it('dedupes a key repeated inside one append', async () => {
        const outcomes = await log.append(channel, [
          { event: 'message', data: 'a', dedupeKey: 'same' },
          { event: 'message', data: 'b', dedupeKey: 'other' },
          { event: 'message', data: 'a', dedupeKey: 'same' },
        ]);
        expect(outcomes).toEqual([
          { position: 1, duplicate: false },
          { position: 2, duplicate: false },
          { position: 1, duplicate: true },
        ]);
        expect(positions(await readAll(log, channel))).toEqual([1, 2]);
      });

      it('scopes dedupe keys to their channel', async () => {
        const other = `${channel}-other`;
        await log.append(channel, [{ event: 'message', data: 'a', dedupeKey: 'k' }]);
        await log.append(channel, events(1));
        const outcome = await log.append(other, [{ event: 'message', data: 'a', dedupeKey: 'k' }]);
        expect(outcome).toEqual([{ position: 1, duplicate: false }]);
      });

      it('forgets a dedupe key once its event has expired', async () => {
        await log.append(channel, [{ event: 'message', data: 'a', dedupeKey: 'k' }]);
        clock.advance(RETENTION_MS);
        const outcome = await log.append(channel, [
          { event: 'message', data: 'a', dedupeKey: 'k' },
        ]);
        expect(outcome).toEqual([{ position: 2, duplicate: false }]);
      });
    });

    describe('Method: read', () => {
      it('returns nothing for a channel never written', async () => {
        expect(await log.read(channel, 0)).toEqual([]);
      });

      it('returns events after the given position, oldest first, with every field', async () => {
        await log.append(channel, [
          { event: 'created', data: '{"id":1}', dedupeKey: 'a' },
          { event: 'updated', data: '{"id":1,"v":2}', dedupeKey: 'b' },
          { event: 'message', data: 'plain', dedupeKey: 'c' },
        ]);
        expect(await log.read(channel, 1)).toEqual([
          { channel, position: 2, event: 'updated', data: '{"id":1,"v":2}', time: clock.now },
          { channel, position: 3, event: 'message', data: 'plain', time: clock.now },
        ]);
        expect(await log.read(channel, 3)).toEqual([]);
        expect(await log.read(channel, 99)).toEqual([]);
      });

      it('pages by limit, and the pages join up without gap or overlap', async () => {
        await log.append(channel, events(25));
        expect(positions(await log.read(channel, 0, { limit: 10 }))).toEqual(range(1, 10));
        expect(positions(await log.read(channel, 10, { limit: 10 }))).toEqual(range(11, 20));
        expect(positions(await log.read(channel, 20, { limit: 10 }))).toEqual(range(21, 25));
        expect(await log.read(channel, 25, { limit: 10 })).toEqual([]);
      });

      it('serves a consistent read on request', async () => {
        await log.append(channel, events(3));
        expect(positions(await log.read(channel, 0, { consistent: true }))).toEqual([1, 2, 3]);
      });

      it('refuses a limit that is not a positive integer', async () => {
        await expect(log.read(channel, 0, { limit: 0 })).rejects.toThrow(RangeError);
        await expect(log.read(channel, 0, { limit: 1.5 })).rejects.toThrow(RangeError);
      });
    });

    describe('Retention', () => {
      it('hides events exactly when their retention ends, even before storage deletes them', async () => {
        await log.append(channel, events(2, 'old'));
        clock.advance(10_000);
        await log.append(channel, events(2, 'new'));

        clock.advance(RETENTION_MS - 10_000 - 1); // 1 ms before the old events expire
        expect(positions(await readAll(log, channel))).toEqual([1, 2, 3, 4]);

        clock.advance(1);
        expect(positions(await readAll(log, channel))).toEqual([3, 4]);
        expect(positions(await log.read(channel, 1))).toEqual([3, 4]);
        expect(await log.retained(channel)).toEqual({ first: 3, last: 4 });

        clock.advance(10_000);
        expect(await readAll(log, channel)).toEqual([]);
        expect(await log.retained(channel)).toEqual({ first: 5, last: 4 });
      });

      it('never reuses positions after every event has expired', async () => {
        await log.append(channel, events(3));
        clock.advance(RETENTION_MS * 2);
        const outcomes = await log.append(channel, events(1, 'after'));
        expect(outcomes).toEqual([{ position: 4, duplicate: false }]);
        expect(positions(await readAll(log, channel))).toEqual([4]);
      });

      it('skips past a long expired prefix to the first retained event', async () => {
        await log.append(channel, events(40, 'old'));
        clock.advance(RETENTION_MS / 2);
        await log.append(channel, events(3, 'new'));
        clock.advance(RETENTION_MS / 2);
        expect(positions(await log.read(channel, 5, { limit: 2 }))).toEqual([41, 42]);
        expect(await log.retained(channel)).toEqual({ first: 41, last: 43 });
      });
    });

    describe('Method: retained', () => {
      it('is empty at position 0 for a channel never written', async () => {
        expect(await log.retained(channel)).toEqual({ first: 1, last: 0 });
      });

      it('spans every retained position', async () => {
        await log.append(channel, events(7));
        expect(await log.retained(channel)).toEqual({ first: 1, last: 7 });
      });
    });

    describe('Concurrency', () => {
      it('gives concurrent writers gap-free, duplicate-free positions, with redeliveries', async () => {
        const writers = 20;
        const perWriter = 100;
        const batch = 10;
        const ownPositions = new Map<string, number>();
        await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            for (let start = 0; start < perWriter; start += batch) {
              const chunk = Array.from({ length: batch }, (_, i) => ({
                event: 'message',
                data: `w${w}-${start + i}`,
                dedupeKey: `w${w}-${start + i}`,
              }));
              const outcomes = await log.append(channel, chunk);
              chunk.forEach((e, i) => {
                const outcome = outcomes[i];
                expect(outcome?.duplicate).toBe(false);
                ownPositions.set(e.dedupeKey, outcome?.position ?? -1);
              });
              // Every 10th event is delivered a second time, as SQS may do.
              const redelivered = chunk[batch - 1] as NewEvent;
              const [again] = await log.append(channel, [redelivered]);
              expect(again).toEqual({
                position: ownPositions.get(redelivered.dedupeKey),
                duplicate: true,
              });
            }
          }),
        );

        const stored = await readAll(log, channel);
        const total = writers * perWriter;
        expect(positions(stored)).toEqual(range(1, total));
        const payloads = stored.map((e) => e.data);
        expect(new Set(payloads).size).toBe(total);
        for (const e of stored) expect(ownPositions.get(e.data)).toBe(e.position);
        expect(await log.retained(channel)).toEqual({ first: 1, last: total });
      });
    });
  });
}
