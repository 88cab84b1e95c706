/**
 * The change index: how a server holding many channels learns that some of them have
 * news without polling each one. Writers record "channel → newest position" after every
 * append; a server reads the recent entries of the whole index with one request per
 * interval, whatever the number of channels it holds, and nudges only the channels that
 * moved. The index is a hint, never the truth: a missed or late entry only delays an
 * event until the server's slow safety sweep (./safety-sweep.ts), and the events
 * themselves are always read from the event log, so nothing is lost or reordered by it
 * (docs/event-log.md).
 */
import { PollInterval, type PollIntervalOptions } from './polling-feed.js';

/** One entry: `channel` holds events up to `head`; `key` orders entries by write time. */
export interface ChangeEntry {
  readonly channel: string;
  readonly head: number;
  /** When it was written, ms since the epoch (the fraction is a tie-breaker): its order. */
  readonly key: number;
}

/** The writer's side: told after every append that stored new events. */
export interface ChangeRecorder {
  record(channel: string, head: number): Promise<void>;
}

/** The reader's side: the entries written after `sinceMs` (ms since the epoch), oldest first. */
export interface ChangeReader {
  changesSince(sinceMs: number): Promise<ChangeEntry[]>;
}

/** How often the index is read: 100 ms while entries come, backing off to 2 s when quiet. */
export const DEFAULT_CHANGE_POLL: Required<PollIntervalOptions> = { minMs: 100, maxMs: 2_000 };
/**
 * Each read looks this far back before the newest entry seen, so that an entry written
 * late (a writer's clock behind, a replica lagging) is still found. Entries already
 * acted on are skipped by their head, so looking back costs only the bytes read.
 */
export const DEFAULT_CHANGE_LOOKBACK_MS = 5_000;

export interface ChangeWatcherOptions {
  readonly reader: ChangeReader;
  /** Told of a channel that moved: it holds events up to `head`. */
  readonly onChange: (channel: string, head: number) => void;
  readonly interval?: PollIntervalOptions;
  readonly lookbackMs?: number;
  readonly clock?: () => number;
  /**
   * Whether anyone could be told of news (the feed holds a channel). While not, the
   * watcher skips its reads and only moves its start on, so that it later reads no
   * further back than the look-back: a channel taken up meanwhile read the log itself.
   * @default always
   */
  readonly active?: () => boolean;
  /** A failed read of the index; the watcher backs off and goes on. */
  readonly onError?: (error: unknown) => void;
}

/**
 * Reads the change index in a loop and reports channels that moved. One read per
 * interval covers every channel; each (channel, head) is reported once, newest head
 * only. Its timer never holds the process open; {@link stop} ends the loop.
 */
export class ChangeWatcher {
  readonly #reader: ChangeReader;
  readonly #onChange: (channel: string, head: number) => void;
  readonly #interval: PollInterval;
  readonly #lookbackMs: number;
  readonly #clock: () => number;
  readonly #onError: (error: unknown) => void;
  readonly #active: () => boolean;
  /** Highest head reported per channel; entries at or below it are old news. */
  readonly #reported = new Map<string, number>();
  /** Sort key (ms) of the newest entry seen. */
  #newestMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #reads = 0;

  constructor(options: ChangeWatcherOptions) {
    this.#reader = options.reader;
    this.#onChange = options.onChange;
    this.#interval = new PollInterval(options.interval ?? DEFAULT_CHANGE_POLL);
    this.#lookbackMs = options.lookbackMs ?? DEFAULT_CHANGE_LOOKBACK_MS;
    if (!(Number.isFinite(this.#lookbackMs) && this.#lookbackMs >= 0)) {
      throw new RangeError(`lookbackMs must be a non-negative number, got ${this.#lookbackMs}`);
    }
    this.#clock = options.clock ?? Date.now;
    this.#active = options.active ?? (() => true);
    this.#onError = options.onError ?? ((error) => console.warn('change index read failed', error));
    // Start from now: what was appended before the server started is read by each
    // stream from the log itself.
    this.#newestMs = this.#clock();
  }

  /** Reads of the index so far (tests, metrics). */
  get reads(): number {
    return this.#reads;
  }

  start(): void {
    if (this.#timer === undefined && !this.#stopped) this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One read of the index; reports what moved. Exposed for tests. */
  async tick(): Promise<boolean> {
    this.#reads += 1;
    const entries = await this.#reader.changesSince(this.#newestMs - this.#lookbackMs);
    let news = false;
    // Newest head per channel first, so each channel is told once per read.
    const heads = new Map<string, number>();
    for (const entry of entries) {
      if (entry.key > this.#newestMs) this.#newestMs = entry.key;
      if ((heads.get(entry.channel) ?? 0) < entry.head) heads.set(entry.channel, entry.head);
    }
    for (const [channel, head] of heads) {
      if ((this.#reported.get(channel) ?? 0) >= head) continue;
      // Deleted first so that the map stays in least-recently-moved order.
      this.#reported.delete(channel);
      this.#reported.set(channel, head);
      news = true;
      this.#onChange(channel, head);
    }
    this.#forgetOld();
    return news;
  }

  #schedule(delayMs: number): void {
    const timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#loop();
    }, delayMs);
    timer.unref();
    this.#timer = timer;
  }

  async #loop(): Promise<void> {
    if (!this.#active()) {
      this.#newestMs = Math.max(this.#newestMs, this.#clock());
      if (!this.#stopped) this.#schedule(this.#interval.next(false));
      return;
    }
    let delay: number;
    try {
      delay = this.#interval.next(await this.tick());
    } catch (error) {
      try {
        this.#onError(error);
      } catch {
        // A failing reporter must not stop the watcher.
      }
      delay = this.#interval.maxMs;
    }
    if (!this.#stopped) this.#schedule(delay);
  }

  /**
   * Keeps the reported heads bounded: a channel quiet for long drops out, and a later
   * entry for it is reported again (one spare read of that channel, nothing more).
   */
  #forgetOld(): void {
    if (this.#reported.size <= MAX_REMEMBERED) return;
    const drop = this.#reported.size - MAX_REMEMBERED;
    let i = 0;
    for (const channel of this.#reported.keys()) {
      if (i++ >= drop) break;
      this.#reported.delete(channel);
    }
  }
}

/** Channels whose last reported head is remembered. */
const MAX_REMEMBERED = 100_000;
