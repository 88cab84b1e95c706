/**
 * The subscribe routes' metrics as CloudWatch embedded-metric log lines, through
 * Powertools Metrics. Nothing is written per delivery: counts and delivery-lag samples
 * gather in memory and go out on {@link EmbeddedStreamMetrics.flush} (the hosts flush
 * every minute and when a stream or the server ends), one line per dimension set.
 *
 * Metrics (namespace and `service` dimension from the Powertools settings):
 * - `StreamsOpened`, `EventsDelivered` (Count);
 * - `OpenStreams` (Count): streams this process held at the flush, a gauge;
 * - `DeliveryLag` (Milliseconds, high resolution): append → write, for events appended
 *   after their stream began, at most `lagSamples` uniformly sampled values per flush;
 * - `StreamsEnded` by `Reason` (lifetime, deadline, token, budget, aborted, stalled,
 *   shutdown, failed); `Resets` by `Reason` (expired, ahead);
 * - `RequestsRefused` by `Status` and `Code`.
 * With `channelPrefixes`, channels under those prefixes get the same stream metrics once
 * more with a `Channel` dimension (refusals never: their channels are the sender's).
 */
import { MetricResolution, type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DEPLOYMENT_DEFAULTS } from '../../config/environment.js';
import type { Reset } from '../../core/resume.js';
import type { StreamEndReason, StreamMetrics } from '../../core/stream-metrics.js';

/** How often a host writes what gathered (DEPLOYMENT_DEFAULTS.streamMetricsFlushSeconds). */
export const STREAM_METRICS_FLUSH_MS = DEPLOYMENT_DEFAULTS.streamMetricsFlushSeconds * 1000;
/** Delivery-lag values kept per dimension set between flushes: one full EMF record. */
export const DEFAULT_LAG_SAMPLES = 100;
/**
 * Distinct `Channel` values one process reports; channels past it count under
 * `<prefix>*`. Anyone may open a stream on a channel name of their choosing, and each
 * new dimension value is a new CloudWatch metric.
 */
export const MAX_CHANNEL_DIMENSION_VALUES = 50;

export interface EmbeddedStreamMetricsOptions {
  /** Where the lines go; its namespace and service name are theirs. */
  readonly metrics: Metrics;
  /** Channels under these prefixes get a `Channel` dimension too. @default none */
  readonly channelPrefixes?: readonly string[];
  /** @default DEFAULT_LAG_SAMPLES */
  readonly lagSamples?: number;
  /** @default Math.random (which lag values a full sample keeps) */
  readonly random?: () => number;
}

type Dimensions = Readonly<Record<string, string>>;

/** Everything one dimension set gathered since the last flush. */
interface Group {
  readonly dimensions: Dimensions;
  readonly counts: Map<string, number>;
  readonly lag: number[];
  lagSeen: number;
}

export class EmbeddedStreamMetrics implements StreamMetrics {
  readonly #metrics: Metrics;
  readonly #prefixes: readonly string[];
  readonly #lagSamples: number;
  readonly #random: () => number;
  readonly #groups = new Map<string, Group>();
  readonly #channelValues = new Set<string>();
  readonly #base: Group;
  #open = 0;

  constructor(options: EmbeddedStreamMetricsOptions) {
    this.#metrics = options.metrics;
    this.#prefixes = options.channelPrefixes ?? [];
    this.#lagSamples = options.lagSamples ?? DEFAULT_LAG_SAMPLES;
    if (!Number.isInteger(this.#lagSamples) || this.#lagSamples < 1) {
      throw new RangeError(`lagSamples must be a positive integer, got ${this.#lagSamples}`);
    }
    this.#random = options.random ?? Math.random;
    this.#base = this.#group({});
  }

  /** Streams open now in this process. */
  openStreams(): number {
    return this.#open;
  }

  streamOpened(channels: readonly string[]): void {
    this.#open += 1;
    this.#count(this.#base, 'StreamsOpened');
    for (const group of this.#channelGroups(channels)) this.#count(group, 'StreamsOpened');
  }

  streamEnded(channels: readonly string[], reason: StreamEndReason): void {
    this.#open = Math.max(0, this.#open - 1);
    this.#count(this.#group({ Reason: reason }), 'StreamsEnded');
    for (const channel of this.#channelValuesOf(channels)) {
      this.#count(this.#group({ Channel: channel, Reason: reason }), 'StreamsEnded');
    }
  }

  delivered(channel: string, lagMs: number | undefined): void {
    this.#deliver(this.#base, lagMs);
    const value = this.#channelValue(channel);
    if (value !== undefined) this.#deliver(this.#group({ Channel: value }), lagMs);
  }

  reset(reset: Reset): void {
    this.#count(this.#group({ Reason: reset.reason }), 'Resets');
    const value = this.#channelValue(reset.channel);
    if (value !== undefined) {
      this.#count(this.#group({ Channel: value, Reason: reset.reason }), 'Resets');
    }
  }

  refused(status: number, code: string): void {
    this.#count(this.#group({ Status: String(status), Code: code }), 'RequestsRefused');
  }

  /**
   * Writes what gathered since the last flush, one line per dimension set, and the
   * `OpenStreams` gauge with the plain set: always while streams are open, so a server
   * holding idle streams still reports them; when none are, only beside other counts (a
   * Lambda invocation that answered a poll writes nothing).
   */
  flush(): void {
    const metrics = this.#metrics;
    if (this.#open > 0 || this.#base.counts.size > 0) {
      this.#base.counts.set('OpenStreams', this.#open);
    }
    for (const group of this.#groups.values()) {
      if (group.counts.size === 0 && group.lag.length === 0) continue;
      for (const [name, value] of Object.entries(group.dimensions)) {
        metrics.addDimension(name, value);
      }
      for (const [name, value] of group.counts) metrics.addMetric(name, MetricUnit.Count, value);
      // Last: Powertools writes the line by itself when a metric reaches 100 values,
      // and clears the dimensions with it.
      for (const value of group.lag) {
        metrics.addMetric('DeliveryLag', MetricUnit.Milliseconds, value, MetricResolution.High);
      }
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      else metrics.clearDimensions();
      group.counts.clear();
      group.lag.length = 0;
      group.lagSeen = 0;
    }
  }

  #group(dimensions: Dimensions): Group {
    const key = JSON.stringify(dimensions);
    let group = this.#groups.get(key);
    if (group === undefined) {
      group = { dimensions, counts: new Map(), lag: [], lagSeen: 0 };
      this.#groups.set(key, group);
    }
    return group;
  }

  #count(group: Group, name: string, by = 1): void {
    group.counts.set(name, (group.counts.get(name) ?? 0) + by);
  }

  #deliver(group: Group, lagMs: number | undefined): void {
    this.#count(group, 'EventsDelivered');
    if (lagMs === undefined) return;
    // Reservoir sampling: every delivery since the flush is equally likely to be kept.
    group.lagSeen += 1;
    if (group.lag.length < this.#lagSamples) {
      group.lag.push(lagMs);
      return;
    }
    const slot = Math.floor(this.#random() * group.lagSeen);
    if (slot < this.#lagSamples) group.lag[slot] = lagMs;
  }

  #channelGroups(channels: readonly string[]): Group[] {
    return this.#channelValuesOf(channels).map((value) => this.#group({ Channel: value }));
  }

  #channelValuesOf(channels: readonly string[]): string[] {
    const values = new Set<string>();
    for (const channel of channels) {
      const value = this.#channelValue(channel);
      if (value !== undefined) values.add(value);
    }
    return [...values];
  }

  /** The `Channel` dimension value of a channel, or none when no prefix takes it. */
  #channelValue(channel: string): string | undefined {
    if (this.#prefixes.length === 0) return undefined;
    const prefix = this.#prefixes.find((p) => channel.startsWith(p));
    if (prefix === undefined) return undefined;
    if (this.#channelValues.has(channel)) return channel;
    if (this.#channelValues.size < MAX_CHANNEL_DIMENSION_VALUES) {
      this.#channelValues.add(channel);
      return channel;
    }
    return `${prefix}*`;
  }
}
