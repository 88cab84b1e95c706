/**
 * The safety net of a server that learns of news from the change index: every
 * `intervalMs`, the heads of all the channels it holds, read in batches (one request per
 * {@link HEADS_PER_READ} channels rather than one per channel), and a nudge for each
 * channel whose head is past what the feed has. An index entry that was never written,
 * or expired before a server read it, delays its events by at most one interval; the
 * events themselves still come from the log, in order, once.
 */

/** Channels one {@link HeadReader.heads} call is given at most (DynamoDB's BatchGetItem). */
export const HEADS_PER_READ = 100;

export interface HeadReader {
  /**
   * The newest position of each of `channels` that has one (a channel never appended to
   * is absent). At most {@link HEADS_PER_READ} channels. A channel the store could not
   * answer for in time may be absent too: it is swept again next round.
   */
  heads(channels: readonly string[]): Promise<ReadonlyMap<string, number>>;
}

/** What the sweep needs of the feed: the channels it holds and a way to wake one. */
export interface SweptFeed {
  /** Each channel the feed holds, with the highest position it has seen. */
  heldChannels(): Iterable<readonly [channel: string, head: number]>;
  /** The channel holds events up to `head`: read them now. */
  nudge(channel: string, head: number): void;
}

export interface SafetySweepOptions {
  readonly reader: HeadReader;
  readonly feed: SweptFeed;
  readonly intervalMs: number;
  /** A failed batch; the rest of the round goes on, and the next round tries again. */
  readonly onError?: (error: unknown) => void;
}

export class SafetySweep {
  readonly #reader: HeadReader;
  readonly #feed: SweptFeed;
  readonly #intervalMs: number;
  readonly #onError: (error: unknown) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #reads = 0;

  constructor(options: SafetySweepOptions) {
    if (!(Number.isFinite(options.intervalMs) && options.intervalMs > 0)) {
      throw new RangeError(`intervalMs must be a positive number, got ${options.intervalMs}`);
    }
    this.#reader = options.reader;
    this.#feed = options.feed;
    this.#intervalMs = options.intervalMs;
    this.#onError = options.onError ?? ((error) => console.warn('safety sweep failed', error));
  }

  /** Head reads so far (tests, metrics). */
  get reads(): number {
    return this.#reads;
  }

  /** The first round runs one interval from now: a new stream reads the log itself. */
  start(): void {
    if (this.#timer === undefined && !this.#stopped) this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One round over every held channel; resolves with the number of channels nudged. */
  async tick(): Promise<number> {
    const held = new Map(this.#feed.heldChannels());
    const channels = [...held.keys()];
    let nudged = 0;
    for (let i = 0; i < channels.length; i += HEADS_PER_READ) {
      const batch = channels.slice(i, i + HEADS_PER_READ);
      let heads: ReadonlyMap<string, number>;
      try {
        this.#reads += 1;
        heads = await this.#reader.heads(batch);
      } catch (error) {
        this.#report(error);
        continue;
      }
      for (const channel of batch) {
        const head = heads.get(channel);
        if (head !== undefined && head > (held.get(channel) ?? 0)) {
          nudged += 1;
          this.#feed.nudge(channel, head);
        }
      }
    }
    return nudged;
  }

  #report(error: unknown): void {
    try {
      this.#onError(error);
    } catch {
      // A failing reporter must not stop the sweep.
    }
  }

  #schedule(): void {
    const timer = setTimeout(() => {
      this.#timer = undefined;
      void this.tick()
        .catch((error: unknown) => this.#report(error))
        .finally(() => {
          if (!this.#stopped) this.#schedule();
        });
    }, this.#intervalMs);
    timer.unref();
    this.#timer = timer;
  }
}
