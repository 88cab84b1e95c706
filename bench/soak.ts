/**
 * Soak: `npm run soak -- --minutes N` (tsx bench/soak.ts).
 *
 * Starts the local stack (in a child process, in memory) with short stream lifetimes
 * and a small byte budget, so that streams rotate every few seconds, then runs for N
 * minutes:
 * - publishers: one per channel at a steady rate, through `/sns` with the publisher SDK,
 *   each event with a `dedupeId` and retried until acknowledged (so a retry stores it
 *   once); the payload carries the channel and a per-channel sequence number;
 * - subscribers, all from `earliest`, joining over the first third of the run:
 *   raw SSE readers (resuming with `Last-Event-ID` as a browser does), real npm
 *   `eventsource` clients, and `/poll` long-pollers; a quarter of the SSE ones take two
 *   or three channels with `envelope=1`. Each connection is broken at a random moment
 *   (exponential, mean a few seconds), sometimes followed by a few seconds offline.
 *
 * Then publishing stops, drops stop, every subscriber catches up, the channels' logs are
 * read back from DynamoDB, and the trace (per subscriber: sequence numbers received per
 * channel) goes to the checker (`bench/soak-checker.ts`), which proves that every
 * subscriber got every event exactly once, in order, and prints counts. Exit code 1 on
 * any violation (or if subscribers never caught up), 2 on a failure of the soak itself.
 */
import './lib/quiet-warnings.js';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventSource, type FetchLike, type FetchLikeResponse } from 'eventsource';
import { DynamoDBEventLog } from '../functions/adapters/dynamodb/event-log.js';
import { ENV } from '../functions/config/environment.js';
import { benchPublisher } from './latency.js';
import { startServerChild } from './lib/server-child.js';
import { SseConnection } from './lib/sse-client.js';
import { sleep, waitUntil } from './lib/stats.js';
import {
  checkSoakTrace,
  formatSoakReport,
  SOAK_TRACE_VERSION,
  type SoakChannelTrace,
  type SoakSubscriberTrace,
  type SoakTrace,
  type SubscriberKind,
} from './soak-checker.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '2' },
    subscribers: { type: 'string', default: '120' },
    channels: { type: 'string', default: '6' },
    rate: { type: 'string', default: '30' },
    trace: { type: 'string' },
    seed: { type: 'string' },
  },
});

const MINUTES = Number(args.minutes);
const SUBSCRIBERS = Number(args.subscribers);
const CHANNELS = Number(args.channels);
const RATE = Number(args.rate);
const SEED = args.seed === undefined ? Date.now() % 2 ** 31 : Number(args.seed);
for (const [name, value] of Object.entries({ MINUTES, SUBSCRIBERS, CHANNELS, RATE, SEED })) {
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`soak: bad --${name.toLowerCase()}`);
    process.exit(2);
  }
}
if (MINUTES > 8) console.error('soak: more than 8 minutes will not finish within 10 minutes');

const TABLE = 'soak-events';
/** Short lifetimes and a small byte budget: streams end (and resume) every few seconds. */
const STACK_ENV = {
  [ENV.tableName]: TABLE,
  [ENV.streamLifetimeSeconds]: '4',
  [ENV.streamLifetimeJitter]: '0.5',
  [ENV.streamByteBudget]: '16384',
  [ENV.retryMs]: '200',
  [ENV.heartbeatSeconds]: '2',
  [ENV.pageSize]: '20',
  [ENV.pollLimit]: '25',
};
const MEAN_DROP_MS = 5_000;
const SETTLE_TIMEOUT_MS = 90_000;

/** mulberry32: a small seeded PRNG, so a run can be repeated with `--seed`. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);
const exponential = (mean: number): number => -Math.log(1 - random()) * mean;

interface Control {
  running: boolean;
  dropping: boolean;
}

/** What every kind of subscriber records. */
class Recorder {
  connections = 0;
  drops = 0;
  rotations = 0;
  errors = 0;
  resets = 0;
  mislabelled = 0;
  readonly received = new Map<string, number[]>();

  constructor(
    readonly id: string,
    readonly kind: SubscriberKind,
    readonly channels: readonly string[],
  ) {}

  /** `data` is our payload `{"c":channel,"s":seq}` as delivered on `channel`. */
  payload(channel: string, data: string): void {
    const { c, s } = JSON.parse(data) as { c: string; s: number };
    if (c !== channel) this.mislabelled += 1;
    let list = this.received.get(c);
    if (list === undefined) {
      list = [];
      this.received.set(c, list);
    }
    list.push(s);
  }

  /** An SSE event's data: the payload, or with `envelope=1` the envelope around it. */
  sseData(data: string, envelope: boolean): void {
    if (!envelope) {
      this.payload(this.channels[0] as string, data);
      return;
    }
    const outer = JSON.parse(data) as { channel: string; data: string };
    this.payload(outer.channel, outer.data);
  }

  distinct(channel: string): number {
    return new Set(this.received.get(channel) ?? []).size;
  }

  trace(): SoakSubscriberTrace {
    return {
      id: this.id,
      kind: this.kind,
      channels: this.channels,
      connections: this.connections,
      drops: this.drops,
      rotations: this.rotations,
      resets: this.resets,
      mislabelled: this.mislabelled,
      received: Object.fromEntries(this.received),
    };
  }
}

interface Subscriber {
  readonly recorder: Recorder;
  start(): void;
  stop(): void;
}

function query(channels: readonly string[], envelope: boolean): string {
  const parts = channels.map((c) => `channel=${encodeURIComponent(c)}`);
  if (envelope) parts.push('envelope=1');
  return parts.join('&');
}

/** A raw SSE reader that resumes like a browser: `Last-Event-ID` after every drop. */
class RawSubscriber implements Subscriber {
  #lastEventId: string | undefined;
  #retryMs = 1_000;
  #connection: SseConnection | undefined;
  #dropTimer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly recorder: Recorder,
    readonly baseUrl: string,
    readonly envelope: boolean,
    readonly control: Control,
  ) {}

  start(): void {
    this.#connect();
  }

  stop(): void {
    clearTimeout(this.#dropTimer);
    clearTimeout(this.#reconnectTimer);
    this.#connection?.close();
  }

  #connect(): void {
    if (!this.control.running) return;
    const r = this.recorder;
    r.connections += 1;
    let planned = false;
    let offlineMs = 0;
    const url = `${this.baseUrl}/events?${query(r.channels, this.envelope)}&lastEventId=earliest`;
    const headers: Record<string, string> =
      this.#lastEventId === undefined ? {} : { 'last-event-id': this.#lastEventId };
    const connection = new SseConnection(url, headers, {
      onRetry: (ms) => {
        this.#retryMs = ms;
      },
      onEvent: (event) => {
        if (event.id !== undefined) this.#lastEventId = event.id;
        if (event.event === 'stream.reset') r.resets += 1;
        else if (event.event === undefined || event.event === 'message') {
          r.sseData(event.data, this.envelope);
        }
      },
      onClose: (how, status) => {
        clearTimeout(this.#dropTimer);
        if (!this.control.running) return;
        if (planned) r.drops += 1;
        else if (how === 'end' && status === 200) r.rotations += 1;
        else r.errors += 1;
        this.#reconnectTimer = setTimeout(() => this.#connect(), this.#retryMs + offlineMs);
      },
    });
    this.#connection = connection;
    if (this.control.dropping) {
      this.#dropTimer = setTimeout(() => {
        planned = true;
        // Now and then the client stays away for a while, so a backlog builds up.
        offlineMs = random() < 0.15 ? 1_000 + random() * 4_000 : random() * 500;
        connection.drop();
      }, exponential(MEAN_DROP_MS));
    }
  }
}

/** The npm `eventsource` client; drops are injected through its `fetch` option. */
class EventSourceSubscriber implements Subscriber {
  #source: EventSource | undefined;
  #timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly recorder: Recorder,
    readonly baseUrl: string,
    readonly control: Control,
  ) {}

  start(): void {
    const r = this.recorder;
    const url = `${this.baseUrl}/events?${query(r.channels, false)}&lastEventId=earliest`;
    const source = new EventSource(url, { fetch: this.#fetch });
    source.addEventListener('message', (event) => r.sseData(String(event.data), false));
    source.addEventListener('stream.reset', () => {
      r.resets += 1;
    });
    this.#source = source;
  }

  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#source?.close();
  }

  readonly #fetch: FetchLike = async (url, init) => {
    const r = this.recorder;
    r.connections += 1;
    const controller = new AbortController();
    const outer: unknown = init.signal;
    if (outer instanceof AbortSignal) {
      outer.addEventListener('abort', () => controller.abort(), { once: true });
    }
    const response = await fetch(url, {
      headers: init.headers,
      redirect: init.redirect,
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    let planned = false;
    let fail: (error: Error) => void = () => {};
    const dropped = new Promise<never>((_, reject) => {
      fail = reject;
    });
    dropped.catch(() => {});
    if (this.control.dropping && reader !== undefined) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        planned = true;
        fail(new Error('planned drop'));
        controller.abort();
      }, exponential(MEAN_DROP_MS));
      this.#timers.add(timer);
    }
    const wrapped: FetchLikeResponse = {
      url: response.url,
      status: response.status,
      redirected: response.redirected,
      headers: response.headers,
      body:
        reader === undefined
          ? null
          : {
              getReader: () => ({
                read: async () => {
                  try {
                    const result = await Promise.race([reader.read(), dropped]);
                    if (result.done && this.control.running) r.rotations += 1;
                    return result;
                  } catch (error) {
                    if (planned) r.drops += 1;
                    else if (this.control.running) r.errors += 1;
                    // A planned drop is not an AbortError, so the client treats it as a
                    // network failure and reconnects; anything else goes through as it was.
                    if (planned) throw new Error('planned drop');
                    throw error;
                  }
                },
                cancel: () => reader.cancel(),
              }),
            },
    };
    return wrapped;
  };
}

interface PollAnswer {
  readonly events: readonly { readonly channel: string; readonly data: string }[];
  readonly cursor: string;
  readonly resets: readonly unknown[];
}

/** A long-polling client of `/poll`, resuming from its cursor after every failure. */
class PollSubscriber implements Subscriber {
  #cursor = 'earliest';
  #controller: AbortController | undefined;

  constructor(
    readonly recorder: Recorder,
    readonly baseUrl: string,
    readonly control: Control,
  ) {}

  start(): void {
    void this.#loop();
  }

  stop(): void {
    this.#controller?.abort();
  }

  async #loop(): Promise<void> {
    const r = this.recorder;
    while (this.control.running) {
      r.connections += 1;
      const controller = new AbortController();
      this.#controller = controller;
      let planned = false;
      const timer =
        this.control.dropping && random() < 0.15
          ? setTimeout(() => {
              planned = true;
              controller.abort();
            }, random() * 2_500)
          : undefined;
      try {
        const url = `${this.baseUrl}/poll?${query(r.channels, false)}&cursor=${encodeURIComponent(this.#cursor)}&wait=2`;
        const response = await fetch(url, { signal: controller.signal });
        const answer = (await response.json()) as PollAnswer;
        clearTimeout(timer);
        if (response.status !== 200) {
          r.errors += 1;
          await sleep(500);
          continue;
        }
        for (const event of answer.events) r.payload(event.channel, event.data);
        r.resets += answer.resets.length;
        this.#cursor = answer.cursor;
      } catch {
        clearTimeout(timer);
        if (!this.control.running) return;
        if (planned) r.drops += 1;
        else r.errors += 1;
        await sleep(200 + random() * 500);
      }
    }
  }
}

async function main(): Promise<number> {
  const started = new Date();
  const channels = Array.from({ length: CHANNELS }, (_, i) => `soak-${i}`);
  console.log(
    `soak: ${MINUTES} min, ${SUBSCRIBERS} subscribers, ${CHANNELS} channels, ${RATE} events/s, seed ${SEED}`,
  );
  const stack = await startServerChild({ mode: 'stack', env: STACK_ENV });
  const dynamoEndpoint = stack.dynamoEndpoint;
  if (dynamoEndpoint === undefined) throw new Error('the stack did not say where DynamoDB is');
  const client = new DynamoDBClient({
    endpoint: dynamoEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const log = new DynamoDBEventLog({ client, tableName: TABLE });
  const control: Control = { running: true, dropping: true };
  const publisher = benchPublisher(stack.url, stack.topicArn);

  const subscribers: Subscriber[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const roll = i % 10;
    const kind: SubscriberKind = roll === 9 ? 'poll' : roll >= 7 ? 'eventsource' : 'sse';
    const multi = kind !== 'eventsource' && i % 4 === 1;
    const first = i % CHANNELS;
    const subscribed = multi
      ? [...new Set([first, (first + 1) % CHANNELS, (first + 3) % CHANNELS])]
          .slice(0, 2 + (i % 2))
          .map((c) => channels[c] as string)
      : [channels[first] as string];
    const recorder = new Recorder(`${kind}-${i}`, kind, subscribed);
    subscribers.push(
      kind === 'poll'
        ? new PollSubscriber(recorder, stack.url, control)
        : kind === 'eventsource'
          ? new EventSourceSubscriber(recorder, stack.url, control)
          : new RawSubscriber(recorder, stack.url, multi, control),
    );
  }

  // Publishers: one per channel, sequential, each event retried until acknowledged.
  const durationMs = MINUTES * 60_000;
  const perChannelRate = RATE / CHANNELS;
  const published = new Map<string, number>(channels.map((c) => [c, 0]));
  const unacknowledged = new Map<string, number[]>(channels.map((c) => [c, []]));
  let publishRetries = 0;
  const publishStart = Date.now();
  const publishOne = async (channel: string, seq: number): Promise<void> => {
    const data = JSON.stringify({ c: channel, s: seq, t: Date.now() });
    for (let attempt = 1; attempt <= 8; attempt++) {
      try {
        await publisher.publish(channel, data, { dedupeId: `${channel}:${seq}` });
        return;
      } catch {
        publishRetries += 1;
        await sleep(250 * attempt);
      }
    }
    unacknowledged.get(channel)?.push(seq);
  };
  const publishers = channels.map(async (channel, c) => {
    // Offset the channels so that their publishes interleave.
    const offset = (c * 1000) / RATE;
    for (let seq = 1; ; seq++) {
      const due = publishStart + offset + ((seq - 1) * 1000) / perChannelRate;
      if (due >= publishStart + durationMs) return;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      await publishOne(channel, seq);
      published.set(channel, seq);
    }
  });

  // Subscribers join over the first third of the run, in random order.
  const joinTimers = subscribers.map((s) =>
    setTimeout(() => s.start(), random() * durationMs * 0.33),
  );
  const progress = setInterval(() => {
    const recs = subscribers.map((s) => s.recorder);
    const sum = (f: (r: Recorder) => number): number => recs.reduce((n, r) => n + f(r), 0);
    const total = [...published.values()].reduce((a, b) => a + b, 0);
    console.log(
      `  ${Math.round((Date.now() - publishStart) / 1000)} s: published ${total}, delivered ${sum((r) => [...r.received.values()].reduce((n, l) => n + l.length, 0))}, connections ${sum((r) => r.connections)}, drops ${sum((r) => r.drops)}, rotations ${sum((r) => r.rotations)}, errors ${sum((r) => r.errors)}`,
    );
  }, 10_000);

  let caughtUp = false;
  let logs = new Map<string, number[]>();
  try {
    await Promise.all(publishers);
    // Everything acknowledged is stored within moments; wait for the logs to stop growing.
    control.dropping = false;
    const readLog = async (channel: string): Promise<number[]> => {
      const seqs: number[] = [];
      let after = 0;
      for (;;) {
        const page = await log.read(channel, after, { limit: 1000, consistent: true });
        if (page.length === 0) return seqs;
        for (const event of page) {
          seqs.push((JSON.parse(event.data) as { s: number }).s);
          after = event.position;
        }
      }
    };
    let lastTotal = -1;
    for (let i = 0; i < 60; i++) {
      const heads = await Promise.all(channels.map((c) => log.retained(c)));
      const total = heads.reduce((n, h) => n + h.last, 0);
      const expected = channels.reduce(
        (n, c) => n + (published.get(c) ?? 0) - (unacknowledged.get(c)?.length ?? 0),
        0,
      );
      if (total >= expected && total === lastTotal) break;
      lastTotal = total;
      await sleep(500);
    }
    logs = new Map(await Promise.all(channels.map(async (c) => [c, await readLog(c)] as const)));
    console.log('  publishing done; waiting for every subscriber to catch up');
    caughtUp = await waitUntil(
      () =>
        subscribers.every((s) =>
          s.recorder.channels.every((c) => s.recorder.distinct(c) >= (logs.get(c)?.length ?? 0)),
        ),
      SETTLE_TIMEOUT_MS,
    );
    // A moment more, so that a duplicate sent right after the last event is seen too.
    await sleep(1_500);
  } finally {
    control.running = false;
    clearInterval(progress);
    for (const timer of joinTimers) clearTimeout(timer);
    for (const s of subscribers) s.stop();
    publisher.close();
  }
  // Read the logs once more: nothing may have been added since.
  const finalLogs = new Map<string, number[]>();
  for (const c of channels) {
    const seqs: number[] = [];
    let after = 0;
    for (;;) {
      const page = await log.read(c, after, { limit: 1000, consistent: true });
      if (page.length === 0) break;
      for (const event of page) {
        seqs.push((JSON.parse(event.data) as { s: number }).s);
        after = event.position;
      }
    }
    finalLogs.set(c, seqs);
  }
  client.destroy();
  await stack.stop();

  const recorders = subscribers.map((s) => s.recorder);
  const channelTraces: SoakChannelTrace[] = channels.map((name) => ({
    name,
    published: published.get(name) ?? 0,
    unacknowledged: unacknowledged.get(name) ?? [],
    log: finalLogs.get(name) ?? [],
  }));
  const trace: SoakTrace = {
    version: SOAK_TRACE_VERSION,
    meta: {
      startedAt: started.toISOString(),
      minutes: MINUTES,
      seed: SEED,
      ratePerSecond: RATE,
      stackEnv: STACK_ENV,
      meanDropMs: MEAN_DROP_MS,
      publishRetries,
      caughtUp,
      logsGrewAfterSettle: channels.some(
        (c) => (finalLogs.get(c)?.length ?? 0) !== (logs.get(c)?.length ?? 0),
      ),
      clientErrors: recorders.reduce((n, r) => n + r.errors, 0),
      node: process.version,
    },
    channels: channelTraces,
    subscribers: recorders.map((r) => r.trace()),
  };
  const tracePath = args.trace ?? join(tmpdir(), `sse-soak-trace-${started.getTime()}.json`);
  writeFileSync(tracePath, JSON.stringify(trace));
  const report = checkSoakTrace(trace);
  const kinds = (k: SubscriberKind): number => recorders.filter((r) => r.kind === k).length;
  console.log(
    `subscribers: ${kinds('sse')} raw SSE (${recorders.filter((r) => r.kind === 'sse' && r.channels.length > 1).length} multi-channel with envelope), ${kinds('eventsource')} npm eventsource, ${kinds('poll')} long-poll`,
  );
  console.log(
    `publish retries ${publishRetries}; client-side errors (not planned) ${trace.meta.clientErrors}`,
  );
  console.log(formatSoakReport(report));
  console.log(`trace: ${tracePath}`);
  if (!caughtUp) console.log(`not every subscriber caught up within ${SETTLE_TIMEOUT_MS / 1000} s`);
  return report.ok && caughtUp ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('soak failed:', error);
    process.exit(2);
  },
);
