/**
 * The checks `verify` runs against a base URL, each a named promise of the contract
 * (README "Subscribing", DESIGN.md guarantees) judged only by what a client sees. Every
 * check uses channels of its own under the run's prefix, so runs and checks never meet.
 * Order is judged against the log's own order (a poll from `earliest`), not the publish
 * order: SNS standard topics may store two quick publishes either way round.
 */
import { decodeCursor, encodeCursor } from '../../functions/core/cursor.js';
import { openSse, type ReceivedEvent, type SseConnection, until } from './sse-reader.js';

export interface VerifyContext {
  /** The stream base URL, no trailing slash. */
  readonly url: string;
  /** Channel prefix of this run. */
  readonly prefix: string;
  readonly publish: (channel: string, data: string, event?: string) => Promise<void>;
  /** An origin to check CORS for; no CORS check without it. */
  readonly origin: string | undefined;
  /** The stack's heartbeat interval (HEARTBEAT_SECONDS). */
  readonly heartbeatSeconds: number;
  /** How long a check waits for an event to arrive. */
  readonly waitMs: number;
  readonly fetch: typeof fetch;
}

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckOutcome {
  readonly status: CheckStatus;
  readonly detail: string;
  readonly figures?: Readonly<Record<string, number>>;
}

export interface Check {
  readonly name: string;
  /** What it shows, for `--help` and the docs. */
  readonly promise: string;
  run(ctx: VerifyContext): Promise<CheckOutcome>;
}

/** A failed expectation: the check fails with this text. */
export class CheckFailed extends Error {
  override readonly name = 'CheckFailed';
}

export function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}

export const pass = (detail: string, figures?: Record<string, number>): CheckOutcome => ({
  status: 'pass',
  detail,
  ...(figures !== undefined && { figures }),
});

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function latencyFigures(samples: readonly number[]): Record<string, number> {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50Ms: Math.round(percentile(sorted, 50)),
    p99Ms: Math.round(percentile(sorted, 99)),
  };
}

export const eventsUrl = (ctx: VerifyContext, channels: readonly string[], extra = ''): string =>
  `${ctx.url}/events?${channels.map((c) => `channel=${encodeURIComponent(c)}`).join('&')}${extra}`;

export const messages = (c: SseConnection): ReceivedEvent[] =>
  c.events.filter((e) => !(e.event ?? '').startsWith('stream.'));

export async function openLive(
  ctx: VerifyContext,
  url: string,
  headers = {},
): Promise<SseConnection> {
  const c = await openSse(url, headers, ctx.fetch);
  expect(c.status === 200, `GET ${new URL(url).pathname} answered ${c.status}, not 200`);
  await until(() => c.events.some((e) => e.event === 'stream.open'), ctx.waitMs, 'stream.open');
  return c;
}

/**
 * Publishes `count` numbered events one after another; returns each one's publish time.
 * `sent` (when given) is filled as they go, for a check that waits on the publisher.
 */
async function publishNumbered(
  ctx: VerifyContext,
  channel: string,
  count: number,
  tag: string,
  sent = new Map<number, number>(),
): Promise<Map<number, number>> {
  for (let seq = 0; seq < count; seq++) {
    sent.set(seq, performance.now());
    await ctx.publish(channel, JSON.stringify({ verify: tag, seq }));
  }
  return sent;
}

function seqOf(data: string, tag: string): number | undefined {
  try {
    const value = JSON.parse(data) as { verify?: unknown; seq?: unknown };
    return value.verify === tag && typeof value.seq === 'number' ? value.seq : undefined;
  } catch {
    return undefined;
  }
}

/** The channel's events in the log's order, from `earliest`, paging through `/poll`. */
export async function logOrder(ctx: VerifyContext, channel: string): Promise<string[]> {
  const datas: string[] = [];
  let cursor = 'earliest';
  for (let page = 0; page < 100; page++) {
    const response = await ctx.fetch(
      `${ctx.url}/poll?channel=${encodeURIComponent(channel)}&cursor=${encodeURIComponent(cursor)}`,
    );
    expect(response.status === 200, `GET /poll answered ${response.status}`);
    const body = (await response.json()) as { events: { data: string }[]; cursor: string };
    if (body.events.length === 0) return datas;
    datas.push(...body.events.map((e) => e.data));
    cursor = body.cursor;
  }
  return datas;
}

/** What a client keeps across connections: each complete event's data, and the last id. */
export function resumingClient() {
  const received: string[] = [];
  let lastId = '';
  return {
    received,
    lastId: () => lastId,
    keep(connection: SseConnection): void {
      for (const e of connection.events) {
        if (e.id !== undefined && e.id !== '') lastId = e.id;
        if (!(e.event ?? '').startsWith('stream.')) received.push(e.data);
      }
    },
  };
}

/**
 * The end of a resumed read: waits for `expected` events over all connections (short of
 * them, the comparison says which are missing), keeps the last connection's, and fails
 * unless every event of the log came once, in the log's order.
 */
export async function expectEveryEventOnce(
  ctx: VerifyContext,
  channel: string,
  client: ReturnType<typeof resumingClient>,
  last: SseConnection,
  expected: number,
): Promise<void> {
  await until(
    () => client.received.length + messages(last).length >= expected,
    ctx.waitMs,
    `${expected} events in all`,
  ).catch(() => undefined);
  // Room for a stray duplicate to show.
  await new Promise((resolve) => setTimeout(resolve, 300));
  client.keep(last);
  const problem = sameOrder(client.received, await logOrder(ctx, channel));
  expect(problem === undefined, problem ?? '');
}

export function sameOrder(received: readonly string[], log: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const data of received) {
    if (seen.has(data)) return `received ${data} twice`;
    seen.add(data);
  }
  const missing = log.filter((d) => !seen.has(d));
  if (missing.length > 0) return `missing ${missing.length} event(s), first ${missing[0]}`;
  if (received.length !== log.length)
    return `received ${received.length}, the log holds ${log.length}`;
  const at = received.findIndex((d, i) => d !== log[i]);
  return at < 0 ? undefined : `event ${at} out of the log's order: ${received[at]}`;
}

const headers: Check = {
  name: 'sse.headers',
  promise:
    'GET /events is text/event-stream, never cached, not buffered, and opens with stream.open',
  async run(ctx) {
    const channel = `${ctx.prefix}/headers`;
    const c = await openLive(ctx, eventsUrl(ctx, [channel]));
    try {
      const type = c.headers.get('content-type') ?? '';
      const cache = c.headers.get('cache-control') ?? '';
      const buffering = c.headers.get('x-accel-buffering');
      expect(type.startsWith('text/event-stream'), `content-type is ${JSON.stringify(type)}`);
      expect(/no-cache|no-store/.test(cache), `cache-control is ${JSON.stringify(cache)}`);
      expect(buffering === 'no', `x-accel-buffering is ${JSON.stringify(buffering)}, not "no"`);
      const open = c.events.find((e) => e.event === 'stream.open');
      const data = JSON.parse(open?.data ?? '{}') as { channels?: unknown };
      expect(
        Array.isArray(data.channels) && data.channels.includes(channel),
        `stream.open names ${JSON.stringify(data.channels)}`,
      );
      expect((open?.id ?? '') !== '', 'stream.open carries no id');
      return pass(
        `${type}; cache-control ${cache}; x-accel-buffering no; stream.open with its cursor`,
      );
    } finally {
      c.drop();
    }
  },
};

const sseDelivery: Check = {
  name: 'sse.delivery',
  promise: 'published events arrive over SSE once each, in the log order; latency',
  async run(ctx) {
    const channel = `${ctx.prefix}/sse`;
    const c = await openLive(ctx, eventsUrl(ctx, [channel]));
    try {
      const count = 20;
      const sent = await publishNumbered(ctx, channel, count, 'sse');
      await until(() => messages(c).length >= count, ctx.waitMs, `${count} events over SSE`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const got = messages(c);
      const problem = sameOrder(
        got.map((e) => e.data),
        await logOrder(ctx, channel),
      );
      expect(problem === undefined, problem ?? '');
      const latency = got.map((e) => e.at - (sent.get(seqOf(e.data, 'sse') ?? -1) ?? e.at));
      const figures = latencyFigures(latency);
      return pass(`${count} events, p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms`, figures);
    } finally {
      c.drop();
    }
  },
};

const poll: Check = {
  name: 'poll.delivery',
  promise: 'GET /poll pages every event from earliest with its cursor, and an empty poll says so',
  async run(ctx) {
    const channel = `${ctx.prefix}/poll`;
    await publishNumbered(ctx, channel, 5, 'poll');
    const deadline = performance.now() + ctx.waitMs;
    let log: string[] = [];
    while (log.length < 5 && performance.now() < deadline) {
      log = await logOrder(ctx, channel);
      if (log.length < 5) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const seqs = log.map((d) => seqOf(d, 'poll'));
    expect(log.length === 5, `poll from earliest returned ${log.length} of 5 events`);
    expect(new Set(seqs).size === 5, `poll returned duplicates: ${JSON.stringify(seqs)}`);
    return pass('5 events from earliest, paged by cursor');
  },
};

const longPoll: Check = {
  name: 'poll.long',
  promise: 'GET /poll with wait answers as soon as an event is stored; latency',
  async run(ctx) {
    const channel = `${ctx.prefix}/long-poll`;
    const first = await ctx.fetch(`${ctx.url}/poll?channel=${encodeURIComponent(channel)}`);
    expect(first.status === 200, `GET /poll answered ${first.status}`);
    const { cursor } = (await first.json()) as { cursor: string };
    const waiting = ctx.fetch(
      `${ctx.url}/poll?channel=${encodeURIComponent(channel)}&cursor=${encodeURIComponent(cursor)}&wait=20`,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const start = performance.now();
    await ctx.publish(channel, JSON.stringify({ verify: 'long', seq: 0 }));
    const response = await waiting;
    const ms = Math.round(performance.now() - start);
    expect(response.status === 200, `long poll answered ${response.status}`);
    const body = (await response.json()) as { events: { data: string }[] };
    expect(body.events.length === 1, `long poll returned ${body.events.length} events, not 1`);
    expect(seqOf(body.events[0]?.data ?? '', 'long') === 0, 'long poll returned another event');
    return pass(`answered ${ms} ms after the publish`, { latencyMs: ms });
  },
};

const resume: Check = {
  name: 'sse.resume',
  promise: 'three forced drops resumed with Last-Event-ID: every event once, in the log order',
  async run(ctx) {
    const channel = `${ctx.prefix}/resume`;
    const count = 30;
    const client = resumingClient();
    const { received, keep } = client;
    let c = await openLive(ctx, eventsUrl(ctx, [channel]));
    const sent = new Map<number, number>();
    const publishing = publishNumbered(ctx, channel, count, 'resume', sent);
    try {
      for (const dropAfter of [5, 12, 20]) {
        const live = c;
        await until(
          () => received.length + messages(live).length >= dropAfter,
          ctx.waitMs,
          `${dropAfter} events before a drop`,
        );
        live.drop();
        keep(live);
        // Offline while two more are published, as a client waiting out `retry:` is.
        const offlineUntil = Math.min(sent.size + 2, count);
        await until(() => sent.size >= offlineUntil, ctx.waitMs, 'two publishes while offline');
        c = await openLive(ctx, eventsUrl(ctx, [channel]), { 'last-event-id': client.lastId() });
      }
      await publishing;
      await expectEveryEventOnce(ctx, channel, client, c, count);
    } finally {
      c.drop();
      await publishing.catch(() => undefined);
    }
    return pass(`${count} events through 3 drops, each once, in the log order`);
  },
};

const envelope: Check = {
  name: 'sse.envelope',
  promise:
    'one envelope=1 stream over two channels: each event once with its channel, per-channel log order',
  async run(ctx) {
    const a = `${ctx.prefix}/env-a`;
    const b = `${ctx.prefix}/env-b`;
    const c = await openLive(ctx, eventsUrl(ctx, [a, b], '&envelope=1'));
    try {
      for (let i = 0; i < 6; i++) {
        await ctx.publish(i % 2 === 0 ? a : b, JSON.stringify({ verify: 'env', seq: i }));
      }
      await until(() => messages(c).length >= 6, ctx.waitMs, '6 enveloped events');
      const envelopes = messages(c).map(
        (e) => JSON.parse(e.data) as { id: string; channel: string; data: string; time: string },
      );
      for (const channel of [a, b]) {
        const mine = envelopes.filter((x) => x.channel === channel).map((x) => x.data);
        const problem = sameOrder(mine, await logOrder(ctx, channel));
        expect(problem === undefined, `${channel}: ${problem}`);
      }
      expect(
        envelopes.every((x) => typeof x.id === 'string' && !Number.isNaN(Date.parse(x.time))),
        'an envelope lacks its id or time',
      );
      return pass('6 events over 2 channels, each with its channel, id and time');
    } finally {
      c.drop();
    }
  },
};

const earliestAndAhead: Check = {
  name: 'sse.earliest-and-reset',
  promise:
    'lastEventId=earliest starts at the oldest event; a cursor ahead of the log gets stream.reset "ahead"',
  async run(ctx) {
    const channel = `${ctx.prefix}/earliest`;
    await publishNumbered(ctx, channel, 3, 'earliest');
    const early = await openLive(ctx, eventsUrl(ctx, [channel], '&lastEventId=earliest'));
    let headCursor: string;
    try {
      await until(() => messages(early).length >= 3, ctx.waitMs, '3 events from earliest');
      const seqs = messages(early).map((e) => seqOf(e.data, 'earliest'));
      expect(seqs[0] === 0, `the first event from earliest is ${JSON.stringify(seqs[0])}, not 0`);
      headCursor = messages(early).at(-1)?.id ?? '';
    } finally {
      early.drop();
    }
    const positions = new Map(decodeCursor(headCursor));
    positions.set(channel, (positions.get(channel) ?? 0) + 1_000);
    const ahead = await openLive(ctx, eventsUrl(ctx, [channel]), {
      'last-event-id': encodeCursor(positions),
    });
    try {
      await until(
        () => ahead.events.some((e) => e.event === 'stream.reset'),
        ctx.waitMs,
        'stream.reset',
      );
      const reset = JSON.parse(
        ahead.events.find((e) => e.event === 'stream.reset')?.data ?? '{}',
      ) as { channel?: string; reason?: string };
      expect(reset.channel === channel, `stream.reset names ${JSON.stringify(reset.channel)}`);
      expect(reset.reason === 'ahead', `stream.reset reason ${JSON.stringify(reset.reason)}`);
      return pass('oldest event first; stream.reset {reason: "ahead"} for a cursor past the head');
    } finally {
      ahead.drop();
    }
  },
};

/** Lines a payload might use to forge SSE fields, if a server let them through. */
export const FORGERY = 'x\n\nid: forged\nevent: forged\nretry: 1\ndata: injected\n\n:';

const framing: Check = {
  name: 'framing',
  promise:
    'a payload with blank lines and id:/event:/retry: lines cannot forge fields; 200 KB with line breaks and non-ASCII arrives intact',
  async run(ctx) {
    const channel = `${ctx.prefix}/framing`;
    const c = await openLive(ctx, eventsUrl(ctx, [channel]));
    try {
      const large = `${'é☃ 0123456789\n'.repeat(12_000)}\r\nend`.slice(0, 200_000);
      await ctx.publish(channel, FORGERY);
      await ctx.publish(channel, large);
      await until(() => messages(c).length >= 2, ctx.waitMs, 'the two framing events');
      const [forged, big] = messages(c);
      expect(
        !c.events.some((e) => e.id === 'forged' || e.event === 'forged'),
        'a payload line became an SSE field (id: or event: forged)',
      );
      expect(forged?.data === FORGERY, `the payload came back as ${JSON.stringify(forged?.data)}`);
      expect((forged?.event ?? 'message') === 'message', `event is ${forged?.event}`);
      // \r\n is a line break in SSE: the client reads it as \n.
      expect(big?.data === large.replace(/\r\n/g, '\n'), 'the 200 KB payload arrived changed');
      return pass(`field lines stayed data; ${Buffer.byteLength(large)} bytes intact`);
    } finally {
      c.drop();
    }
  },
};

interface ErrorCase {
  readonly what: string;
  readonly request: () => Promise<Response>;
  readonly status: number;
  readonly code?: string;
  readonly names?: string;
}

const errors: Check = {
  name: 'errors',
  promise:
    'documented errors: 400 naming the parameter, 404, 405, 414, as JSON before any stream byte',
  async run(ctx) {
    const channel = encodeURIComponent(`${ctx.prefix}/errors`);
    const get = (path: string) => () => ctx.fetch(`${ctx.url}${path}`);
    const cases: ErrorCase[] = [
      {
        what: 'no channel',
        request: get('/events'),
        status: 400,
        code: 'missing_parameter',
        names: 'channel',
      },
      {
        what: 'bad channel',
        request: get('/events?channel=%20bad%20'),
        status: 400,
        code: 'invalid_parameter',
        names: 'channel',
      },
      {
        what: 'bad cursor',
        request: get(`/events?channel=${channel}&lastEventId=not-a-cursor`),
        status: 400,
        code: 'malformed_cursor',
        names: 'lastEventId',
      },
      {
        what: 'bad wait',
        request: get(`/poll?channel=${channel}&wait=99`),
        status: 400,
        code: 'invalid_parameter',
        names: 'wait',
      },
      { what: 'unknown route', request: get('/no-such-route'), status: 404 },
      {
        what: 'POST /events',
        request: () => ctx.fetch(`${ctx.url}/events?channel=${channel}`, { method: 'POST' }),
        status: 405,
      },
      {
        what: 'long query',
        request: get(`/events?channel=${channel}&pad=${'x'.repeat(5_000)}`),
        status: 414,
        code: 'uri_too_long',
      },
    ];
    for (const x of cases) {
      const response = await x.request();
      if (response.status !== x.status) {
        // A 200 here is a stream that would never end: do not read it.
        await response.body?.cancel();
        throw new CheckFailed(`${x.what}: ${response.status}, not ${x.status}`);
      }
      const text = await response.text();
      if (x.code === undefined) continue;
      let body: { error?: { code?: string; message?: string } } = {};
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        throw new CheckFailed(`${x.what}: the body is not JSON: ${text.slice(0, 80)}`);
      }
      expect(
        body.error?.code === x.code,
        `${x.what}: code ${JSON.stringify(body.error?.code)}, not ${x.code}`,
      );
      if (x.names !== undefined) {
        expect(
          (body.error?.message ?? '').includes(x.names),
          `${x.what}: the message does not name ${x.names}: ${JSON.stringify(body.error?.message)}`,
        );
      }
    }
    return pass(`${cases.length} requests answered as documented`);
  },
};

const cors: Check = {
  name: 'cors',
  promise: 'a browser page on --origin may read the stream (Access-Control-Allow-Origin)',
  async run(ctx) {
    if (ctx.origin === undefined) return { status: 'skip', detail: 'no --origin given' };
    const response = await ctx.fetch(
      `${ctx.url}/poll?channel=${encodeURIComponent(`${ctx.prefix}/cors`)}`,
      { headers: { origin: ctx.origin } },
    );
    await response.text();
    const allowed = response.headers.get('access-control-allow-origin');
    expect(
      allowed === ctx.origin || allowed === '*',
      `Access-Control-Allow-Origin is ${JSON.stringify(allowed)} for ${ctx.origin}`,
    );
    return pass(`Access-Control-Allow-Origin: ${allowed}`);
  },
};

export const CHECKS: readonly Check[] = [
  headers,
  sseDelivery,
  poll,
  longPoll,
  resume,
  envelope,
  earliestAndAhead,
  framing,
  errors,
  cors,
];

/**
 * The heartbeat check holds an idle stream from the start of the run and is judged at
 * its end, so it costs no extra wait when the other checks take longer than an interval.
 */
export const HEARTBEAT_CHECK = 'sse.heartbeat';

export async function startHeartbeatCheck(ctx: VerifyContext): Promise<Check> {
  const channel = `${ctx.prefix}/heartbeat`;
  const opened = performance.now();
  let c: SseConnection | undefined;
  let failure: string | undefined;
  try {
    c = await openLive(ctx, eventsUrl(ctx, [channel]));
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
  }
  return {
    name: HEARTBEAT_CHECK,
    promise: 'an idle stream carries a comment line within the heartbeat interval',
    async run() {
      if (c === undefined) throw new CheckFailed(failure ?? 'no stream');
      const stream = c;
      const limitMs = ctx.heartbeatSeconds * 1000 + 2_000;
      try {
        await until(
          () => stream.comments.length > 0 || performance.now() - opened > limitMs,
          limitMs + 1_000,
          'a heartbeat',
        );
        const first = stream.comments[0];
        expect(first !== undefined, `no comment line within ${ctx.heartbeatSeconds} s (+2 s)`);
        const gapMs = Math.round(first.at - opened);
        return pass(`first heartbeat ${gapMs} ms after opening`, { firstHeartbeatMs: gapMs });
      } finally {
        stream.drop();
      }
    },
  };
}
