import {
  type AppendOutcome,
  DEFAULT_RETENTION_MS,
  type EventLog,
  isRetained,
  type NewEvent,
  type ReadOptions,
  type RetainedRange,
  readLimit,
  type StoredEvent,
} from './event-log.js';

export interface MemoryEventLogOptions {
  /** @default DEFAULT_RETENTION_MS (24 hours) */
  readonly retentionMs?: number;
  /** Milliseconds since the epoch. @default Date.now */
  readonly clock?: () => number;
}

interface ChannelLog {
  last: number;
  lastTime: number;
  events: StoredEvent[];
  /** dedupe key → position */
  dedupe: Map<string, number>;
}

/**
 * The reference implementation of {@link EventLog}: everything in one process's memory.
 * Used by tests, and as the model the DynamoDB implementation is checked against.
 */
export class MemoryEventLog implements EventLog {
  readonly #retentionMs: number;
  readonly #clock: () => number;
  readonly #channels = new Map<string, ChannelLog>();

  constructor(options: MemoryEventLogOptions = {}) {
    this.#retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.#clock = options.clock ?? Date.now;
  }

  async append(channel: string, events: readonly NewEvent[]): Promise<AppendOutcome[]> {
    const log = this.#channel(channel);
    const now = this.#clock();
    return events.map((event) => {
      const original = log.dedupe.get(event.dedupeKey);
      if (original !== undefined) {
        const stored = log.events.find((e) => e.position === original);
        // A dedupe marker lives as long as its event; past that the key is free again.
        if (stored !== undefined && isRetained(stored.time, now, this.#retentionMs)) {
          return { position: original, duplicate: true };
        }
      }
      log.last += 1;
      log.lastTime = Math.max(now, log.lastTime);
      log.events.push({
        channel,
        position: log.last,
        event: event.event,
        data: event.data,
        time: log.lastTime,
      });
      log.dedupe.set(event.dedupeKey, log.last);
      return { position: log.last, duplicate: false };
    });
  }

  async read(channel: string, after: number, options?: ReadOptions): Promise<StoredEvent[]> {
    const limit = readLimit(options);
    const now = this.#clock();
    const log = this.#channels.get(channel);
    if (log === undefined) return [];
    const page: StoredEvent[] = [];
    for (const event of log.events) {
      if (page.length >= limit) break;
      if (event.position > after && isRetained(event.time, now, this.#retentionMs)) {
        page.push(event);
      }
    }
    return page;
  }

  async retained(channel: string): Promise<RetainedRange> {
    const log = this.#channels.get(channel);
    if (log === undefined) return { first: 1, last: 0 };
    const now = this.#clock();
    const oldest = log.events.find((e) => isRetained(e.time, now, this.#retentionMs));
    return { first: oldest?.position ?? log.last + 1, last: log.last };
  }

  #channel(channel: string): ChannelLog {
    let log = this.#channels.get(channel);
    if (log === undefined) {
      log = { last: 0, lastTime: 0, events: [], dedupe: new Map() };
      this.#channels.set(channel, log);
    }
    return log;
  }
}
