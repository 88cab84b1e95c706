/**
 * The soak's checker: pure, so that tests can run it on recorded traces.
 *
 * A trace holds, per channel, what the publishers had acknowledged and the channel's
 * event log as stored (payload sequence numbers in position order, read back from the
 * table after the run); and per subscriber, the sequence numbers it received on each of
 * its channels, in arrival order, over all its connections. Every subscriber started
 * from `earliest`, so it must have received exactly its channels' logs.
 *
 * It proves, and counts what breaks:
 * - the log: every acknowledged event stored exactly once (`log-loss`, `log-duplicate`),
 *   nothing stored that nobody published (`log-foreign`);
 * - every subscriber, every channel: every stored event received (`loss`), none more
 *   than once (`duplicate`), in log order (`reorder`), nothing else (`foreign`), no
 *   `stream.reset` (`reset`: in a soak with 24 h retention nothing may expire).
 */

export const SOAK_TRACE_VERSION = 1;

export interface SoakChannelTrace {
  readonly name: string;
  /** Sequence numbers 1..published were published (each until acknowledged, with retries). */
  readonly published: number;
  /**
   * The few of them never acknowledged despite retries: they may or may not be stored,
   * but at most once.
   */
  readonly unacknowledged: readonly number[];
  /** The stored log: payload sequence numbers in position order (positions 1, 2, …). */
  readonly log: readonly number[];
}

export type SubscriberKind = 'sse' | 'eventsource' | 'poll';

export interface SoakSubscriberTrace {
  readonly id: string;
  readonly kind: SubscriberKind;
  readonly channels: readonly string[];
  /** Connections (or poll requests) made. */
  readonly connections: number;
  /** Connections the soak broke on purpose. */
  readonly drops: number;
  /** Streams the server ended cleanly (lifetime, byte budget), followed by a reconnect. */
  readonly rotations: number;
  readonly resets: number;
  /** Events whose stream channel (or envelope channel) was not the payload's channel. */
  readonly mislabelled: number;
  /** Per channel (the payload's), sequence numbers in arrival order. */
  readonly received: Readonly<Record<string, readonly number[]>>;
}

export interface SoakTrace {
  readonly version: number;
  readonly meta: Readonly<Record<string, unknown>>;
  readonly channels: readonly SoakChannelTrace[];
  readonly subscribers: readonly SoakSubscriberTrace[];
}

export type ViolationKind =
  | 'log-loss'
  | 'log-duplicate'
  | 'log-foreign'
  | 'loss'
  | 'duplicate'
  | 'reorder'
  | 'foreign'
  | 'reset'
  | 'mislabelled'
  | 'unknown-channel';

export interface Violation {
  readonly kind: ViolationKind;
  readonly channel: string;
  /** Absent for log violations. */
  readonly subscriber?: string;
  readonly seq?: number;
  readonly detail: string;
}

export interface SoakReport {
  readonly ok: boolean;
  readonly channels: number;
  readonly subscribers: number;
  readonly eventsPublished: number;
  readonly eventsStored: number;
  readonly expectedDeliveries: number;
  readonly deliveries: number;
  readonly connections: number;
  readonly drops: number;
  readonly rotations: number;
  readonly violationCounts: Readonly<Record<ViolationKind, number>>;
  /** The first violations found (at most {@link MAX_LISTED}). */
  readonly violations: readonly Violation[];
}

export const MAX_LISTED = 50;

const KINDS: readonly ViolationKind[] = [
  'log-loss',
  'log-duplicate',
  'log-foreign',
  'loss',
  'duplicate',
  'reorder',
  'foreign',
  'reset',
  'mislabelled',
  'unknown-channel',
];

function tally(values: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

type Finding = 'missing' | 'repeated' | 'unknown';

/**
 * Compares `got` (a tally) with `expected`: each expected value it lacks, then value by
 * value each it holds more than once and each that `known` rejects. The order is the one
 * the listed violations come in.
 */
function compareTally(
  expected: Iterable<number>,
  got: ReadonlyMap<number, number>,
  known: (seq: number) => boolean,
  found: (finding: Finding, seq: number, times: number) => void,
): void {
  for (const seq of expected) {
    if (!got.has(seq)) found('missing', seq, 0);
  }
  for (const [seq, n] of got) {
    if (n > 1) found('repeated', seq, n);
    if (!known(seq)) found('unknown', seq, n);
  }
}

/** Sequence numbers 1..`published`, except those never acknowledged. */
function* acknowledged(published: number, unacknowledged: ReadonlySet<number>): Iterable<number> {
  for (let seq = 1; seq <= published; seq++) {
    if (!unacknowledged.has(seq)) yield seq;
  }
}

/** What each finding means for the stored log, and for one subscriber's deliveries. */
const LOG_FINDINGS: Readonly<Record<Finding, (times: number) => [ViolationKind, string]>> = {
  missing: () => ['log-loss', 'acknowledged but not stored'],
  repeated: (times) => ['log-duplicate', `stored ${times} times`],
  unknown: () => ['log-foreign', 'never published'],
};
const DELIVERY_FINDINGS: Readonly<Record<Finding, (times: number) => [ViolationKind, string]>> = {
  missing: () => ['loss', 'never received'],
  repeated: (times) => ['duplicate', `received ${times} times`],
  unknown: () => ['foreign', 'not in the log'],
};

export function checkSoakTrace(trace: SoakTrace): SoakReport {
  const counts = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<ViolationKind, number>;
  const violations: Violation[] = [];
  const report = (violation: Violation): void => {
    counts[violation.kind] += 1;
    if (violations.length < MAX_LISTED) violations.push(violation);
  };

  const channels = new Map<string, SoakChannelTrace>();
  let eventsPublished = 0;
  let eventsStored = 0;
  for (const channel of trace.channels) {
    channels.set(channel.name, channel);
    eventsPublished += channel.published - channel.unacknowledged.length;
    eventsStored += channel.log.length;
    const stored = tally(channel.log);
    const unacknowledged = new Set(channel.unacknowledged);
    compareTally(
      acknowledged(channel.published, unacknowledged),
      stored,
      (seq) =>
        (Number.isInteger(seq) && seq >= 1 && seq <= channel.published) || unacknowledged.has(seq),
      (finding, seq, times) => {
        const [kind, detail] = LOG_FINDINGS[finding](times);
        report({ kind, channel: channel.name, seq, detail });
      },
    );
  }

  let expectedDeliveries = 0;
  let deliveries = 0;
  let connections = 0;
  let drops = 0;
  let rotations = 0;
  for (const subscriber of trace.subscribers) {
    connections += subscriber.connections;
    drops += subscriber.drops;
    rotations += subscriber.rotations;
    if (subscriber.resets > 0) {
      report({
        kind: 'reset',
        channel: subscriber.channels.join(','),
        subscriber: subscriber.id,
        detail: `${subscriber.resets} stream.reset event(s)`,
      });
    }
    if (subscriber.mislabelled > 0) {
      report({
        kind: 'mislabelled',
        channel: subscriber.channels.join(','),
        subscriber: subscriber.id,
        detail: `${subscriber.mislabelled} event(s) carried another channel's payload`,
      });
    }
    for (const name of Object.keys(subscriber.received)) {
      if (!subscriber.channels.includes(name)) {
        report({
          kind: 'unknown-channel',
          channel: name,
          subscriber: subscriber.id,
          detail: 'received events of a channel it did not subscribe to',
        });
      }
    }
    for (const name of subscriber.channels) {
      const channel = channels.get(name);
      const received = subscriber.received[name] ?? [];
      deliveries += received.length;
      if (channel === undefined) {
        report({
          kind: 'unknown-channel',
          channel: name,
          subscriber: subscriber.id,
          detail: 'subscribed channel missing from the trace',
        });
        continue;
      }
      expectedDeliveries += channel.log.length;
      const indexOf = new Map<number, number>();
      channel.log.forEach((seq, index) => {
        if (!indexOf.has(seq)) indexOf.set(seq, index);
      });
      compareTally(
        channel.log,
        tally(received),
        (seq) => indexOf.has(seq),
        (finding, seq, times) => {
          const [kind, detail] = DELIVERY_FINDINGS[finding](times);
          report({ kind, channel: name, subscriber: subscriber.id, seq, detail });
        },
      );
      // Order: first arrivals must follow log positions.
      let previous = -1;
      let previousSeq: number | undefined;
      const first = new Set<number>();
      for (const seq of received) {
        if (first.has(seq)) continue;
        first.add(seq);
        const index = indexOf.get(seq);
        if (index === undefined) continue;
        if (index < previous) {
          report({
            kind: 'reorder',
            channel: name,
            subscriber: subscriber.id,
            seq,
            detail: `arrived after ${previousSeq}, but is stored before it`,
          });
        }
        if (index > previous) {
          previous = index;
          previousSeq = seq;
        }
      }
    }
  }

  return {
    ok: KINDS.every((k) => counts[k] === 0),
    channels: trace.channels.length,
    subscribers: trace.subscribers.length,
    eventsPublished,
    eventsStored,
    expectedDeliveries,
    deliveries,
    connections,
    drops,
    rotations,
    violationCounts: counts,
    violations,
  };
}

/** Reads and shape-checks a trace (e.g. `JSON.parse` of a file). */
export function parseSoakTrace(value: unknown): SoakTrace {
  const fail = (what: string): never => {
    throw new Error(`not a soak trace: ${what}`);
  };
  if (typeof value !== 'object' || value === null) return fail('not an object');
  const trace = value as Partial<SoakTrace>;
  if (trace.version !== SOAK_TRACE_VERSION) fail(`version ${String(trace.version)}`);
  if (!Array.isArray(trace.channels)) fail('channels');
  if (!Array.isArray(trace.subscribers)) fail('subscribers');
  const isSeqs = (v: unknown): boolean => Array.isArray(v) && v.every((n) => typeof n === 'number');
  for (const c of trace.channels ?? []) {
    if (
      typeof c.name !== 'string' ||
      typeof c.published !== 'number' ||
      !isSeqs(c.log) ||
      !isSeqs(c.unacknowledged)
    ) {
      fail(`channel ${JSON.stringify(c.name)}`);
    }
  }
  for (const s of trace.subscribers ?? []) {
    if (
      typeof s.id !== 'string' ||
      !Array.isArray(s.channels) ||
      typeof s.received !== 'object' ||
      typeof s.resets !== 'number' ||
      typeof s.mislabelled !== 'number'
    ) {
      fail(`subscriber ${JSON.stringify(s.id)}`);
    }
    for (const seqs of Object.values(s.received ?? {}))
      if (!isSeqs(seqs)) fail(`subscriber ${s.id}`);
  }
  return trace as SoakTrace;
}

/** A few lines for a terminal. */
export function formatSoakReport(report: SoakReport): string {
  const lines = [
    `soak check: ${report.ok ? 'PASSED' : 'FAILED'}`,
    `  channels ${report.channels}, subscribers ${report.subscribers}`,
    `  events published (acknowledged) ${report.eventsPublished}, stored ${report.eventsStored}`,
    `  deliveries expected ${report.expectedDeliveries}, received ${report.deliveries}`,
    `  connections ${report.connections} (dropped on purpose ${report.drops}, rotated by the server ${report.rotations})`,
    `  violations: ${KINDS.map((k) => `${k} ${report.violationCounts[k]}`).join(', ')}`,
  ];
  for (const v of report.violations.slice(0, 20)) {
    lines.push(
      `    ${v.kind} channel=${v.channel}${v.subscriber === undefined ? '' : ` subscriber=${v.subscriber}`}${v.seq === undefined ? '' : ` seq=${v.seq}`}: ${v.detail}`,
    );
  }
  return lines.join('\n');
}
