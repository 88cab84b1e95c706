/**
 * Guarantee 4 (DESIGN.md): bad input of any kind gets a clear error and breaks nothing.
 * fast-check throws random requests at the routes (in memory and through the Node
 * adapter on a real socket), random text at the cursor decoder, and random SNS envelopes
 * at the writer: never a 5xx, never an exception escaping, never a write to the log for
 * invalid input.
 */
import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type SubscribeServer,
  startSubscribeServer,
} from '../../../../functions/adapters/node/http-adapter.js';
import { authorizerFromConfig, readAuthConfig } from '../../../../functions/auth/auth-config.js';
import {
  decodeCursor,
  encodeCursor,
  MalformedCursorError,
  parseResumePoint,
} from '../../../../functions/core/cursor.js';
import type {
  AppendOutcome,
  EventLog,
  NewEvent,
  ReadOptions,
  RetainedRange,
  StoredEvent,
} from '../../../../functions/core/event-log.js';
import { MemoryEventLog } from '../../../../functions/core/memory-event-log.js';
import { PollingFeed } from '../../../../functions/core/polling-feed.js';
import type { HttpRequest } from '../../../../functions/http/http-types.js';
import { createRouter } from '../../../../functions/http/router.js';
import { DEFAULT_SUBSCRIBE_CONFIG } from '../../../../functions/http/subscribe-config.js';
import type { DeadLetterSink, QueueRecord, Rejection } from '../../../../functions/writer/ports.js';
import { processBatch } from '../../../../functions/writer/process-batch.js';

const SECRET_TEXT = 'fuzz-secret-of-at-least-32-bytes-0123456789';
const SECRET = new TextEncoder().encode(SECRET_TEXT);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

// Written out from DESIGN.md rather than imported, so the oracle is independent.
const CHANNEL = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/;
const EVENT = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** An event log that records appends (and serves reads from memory). */
class RecordingLog implements EventLog {
  readonly appends: { channel: string; events: readonly NewEvent[] }[] = [];
  readonly #inner = new MemoryEventLog();
  async append(channel: string, events: readonly NewEvent[]): Promise<AppendOutcome[]> {
    this.appends.push({ channel, events });
    return this.#inner.append(channel, events);
  }
  read(channel: string, after: number, options?: ReadOptions): Promise<StoredEvent[]> {
    return this.#inner.read(channel, after, options);
  }
  retained(channel: string): Promise<RetainedRange> {
    return this.#inner.retained(channel);
  }
}

// ---------------------------------------------------------------- arbitraries

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const anyText = fc.string({
  unit: fc.oneof(
    { arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 1 }), weight: 6 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 1 }), weight: 3 },
    { arbitrary: fc.constantFrom('\r', '\n', '\0', '%', '*', ',', ';', '"', '\u2028'), weight: 2 },
    { arbitrary: loneSurrogate, weight: 1 },
  ),
  maxLength: 40,
});
const channelName = fc.stringMatching(CHANNEL);
const channelish = fc.oneof(
  channelName,
  channelName.map((c) => `private/${c}`),
  anyText,
  fc.constantFrom('', '*', 'private/', 'a'.repeat(129), 'private/a\nb', ' a'),
);
const validCursor = fc
  .uniqueArray(fc.tuple(channelName, fc.nat({ max: Number.MAX_SAFE_INTEGER })), {
    selector: ([c]) => c,
    minLength: 1,
    maxLength: 4,
  })
  .map((entries) => encodeCursor(new Map(entries)));
const cursorish = fc.oneof(
  { arbitrary: validCursor, weight: 6 },
  {
    arbitrary: fc.constantFrom(
      'earliest',
      'latest',
      '',
      '1.',
      '1.e30',
      '2.abc',
      '1.W10',
      '1.bnVsbA',
    ),
    weight: 3,
  },
  { arbitrary: anyText, weight: 1 },
  { arbitrary: fc.string().map((s) => `1.${s}`), weight: 1 },
  { arbitrary: fc.json().map((j) => `1.${Buffer.from(j).toString('base64url')}`), weight: 1 },
  {
    arbitrary: fc.string({
      minLength: 16_000,
      maxLength: 17_000,
      unit: fc.constantFrom('A', 'b', '-'),
    }),
    weight: 1,
  },
);

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  );
}

/** JWT-shaped text: random header and payload, random or genuinely HMAC-signed. */
const jwtish = fc
  .tuple(
    fc.record(
      {
        alg: fc.oneof(
          fc.constantFrom('none', 'None', 'HS256', 'HS512', 'RS256', 'ES256', ''),
          anyText,
          fc.integer(),
        ),
        kid: anyText,
        typ: fc.constant('JWT'),
        crit: fc.array(anyText, { maxLength: 2 }),
      },
      { requiredKeys: [] },
    ),
    fc.oneof(
      fc.record(
        {
          aud: fc.oneof(fc.constant('sse-pubsub'), anyText, fc.array(anyText, { maxLength: 2 })),
          exp: fc.oneof(
            fc.integer({ min: -1e10, max: 1e10 }),
            fc.double(),
            fc.constant(1e308),
            fc.constant(Math.floor(Date.now() / 1000) + 600),
            anyText,
          ),
          nbf: fc.oneof(fc.integer({ min: -1e10, max: 1e10 }), anyText),
          iat: fc.oneof(fc.integer(), anyText),
          sub: fc.oneof(anyText, fc.integer()),
          channels: fc.oneof(
            fc.array(channelish, { maxLength: 4 }),
            fc.array(
              channelish.map((c) => `${c}*`),
              { maxLength: 3 },
            ),
            anyText,
            fc.jsonValue(),
          ),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    ),
    fc.oneof({ arbitrary: fc.constant('sign'), weight: 3 }, { arbitrary: anyText, weight: 1 }),
  )
  .map(([header, payload, signature]) => {
    const input = `${b64(header)}.${b64(payload)}`;
    const sig =
      signature === 'sign'
        ? createHmac('sha256', SECRET).update(input).digest('base64url')
        : b64(signature);
    return `${input}.${sig}`;
  });

/** A token that verifies: HS256, our audience, unexpired, granting some private channels. */
const goodToken = fc
  .subarray(['private/a', 'private/b', 'private/*', 'private/a*', 'public'], { minLength: 1 })
  .map((channels) => {
    const header = { alg: 'HS256', typ: 'JWT' };
    const payload = { aud: 'sse-pubsub', exp: Math.floor(Date.now() / 1000) + 600, channels };
    const input = `${b64(header)}.${b64(payload)}`;
    return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
  });

const tokenish = fc.oneof(
  { arbitrary: goodToken, weight: 3 },
  { arbitrary: jwtish, weight: 3 },
  anyText,
  fc.constant(''),
  fc.string({ minLength: 8_000, maxLength: 9_000, unit: fc.constantFrom('a', '.', '-') }),
);

const method = fc.oneof(
  { arbitrary: fc.constant('GET'), weight: 16 },
  { arbitrary: fc.constantFrom('POST', 'OPTIONS', 'HEAD', 'PUT', 'DELETE', 'PATCH'), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 8 }), weight: 1 },
);
const path = fc.oneof(
  { arbitrary: fc.constantFrom('/events', '/poll', '/events/', '/poll//'), weight: 16 },
  { arbitrary: fc.constantFrom('/', '/Events', '//events', '/events/x'), weight: 2 },
  { arbitrary: fc.string().map((s) => `/${s}`), weight: 1 },
);
const param = fc.oneof(
  { arbitrary: fc.tuple(fc.constant('channel'), channelish), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom('lastEventId', 'cursor'), cursorish), weight: 2 },
  {
    arbitrary: fc.tuple(
      fc.constant('wait'),
      fc.oneof(
        { arbitrary: fc.constantFrom('0', '0.05', '21', '1.5', '-1', '1e3'), weight: 3 },
        { arbitrary: anyText, weight: 1 },
      ),
    ),
    weight: 1,
  },
  {
    arbitrary: fc.tuple(
      fc.constant('envelope'),
      fc.oneof(
        { arbitrary: fc.constantFrom('1', '0', 'true', ''), weight: 3 },
        { arbitrary: anyText, weight: 1 },
      ),
    ),
    weight: 1,
  },
  { arbitrary: fc.tuple(fc.constant('token'), tokenish), weight: 4 },
  { arbitrary: fc.tuple(anyText, anyText), weight: 1 },
);
/** Mostly plausible channels, so that requests get past the parser to the token checks. */
const channelParam = fc.tuple(
  fc.constant('channel'),
  fc.oneof(
    { arbitrary: channelName.filter((c) => c.length < 40), weight: 3 },
    { arbitrary: fc.constantFrom('public', 'private/a', 'private/b', 'private/a/x'), weight: 6 },
    { arbitrary: channelish, weight: 1 },
  ),
);
const query = fc.oneof(
  {
    arbitrary: fc
      .tuple(
        fc.array(channelParam, { minLength: 1, maxLength: 3 }),
        fc.array(param, { maxLength: 3 }),
      )
      .map(([channels, rest]) => new URLSearchParams([...channels, ...rest])),
    weight: 12,
  },
  fc.array(param, { maxLength: 8 }).map((pairs) => new URLSearchParams(pairs)),
  anyText.map((raw) => new URLSearchParams(raw)),
  fc
    .string({ minLength: 4_000, maxLength: 6_000, unit: fc.constantFrom('a', '=', '&', 'channel') })
    .map((raw) => new URLSearchParams(raw)),
);
const headers = fc.record(
  {
    'last-event-id': cursorish,
    authorization: fc.oneof(
      tokenish.map((t) => `Bearer ${t}`),
      anyText,
      fc.constantFrom('Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'bearer a.b.c'),
    ),
    cookie: fc.oneof(
      tokenish.map((t) => `sse_token=${t}`),
      anyText,
      tokenish.map((t) => `a=1; sse_token="${t}"; sse_token=x`),
    ),
    origin: fc.oneof(fc.constant('https://app.example'), anyText),
  },
  { requiredKeys: [] },
);

const ALLOWED_STATUSES = new Set([200, 204, 400, 401, 403, 404, 405, 414]);

describe('Function: createRouter (fuzzed requests)', () => {
  const log = new RecordingLog();
  const problems: unknown[] = [];
  const route = createRouter({
    config: { ...DEFAULT_SUBSCRIBE_CONFIG, corsOrigins: ['https://app.example'] },
    feed: () => new PollingFeed(log, { minMs: 5, maxMs: 10 }),
    clock: Date.now,
    random: Math.random,
    authorize: authorizerFromConfig(
      readAuthConfig({ AUTH_PRIVATE_PREFIXES: 'private/', AUTH_SECRET: SECRET_TEXT }),
    ),
    onError: (error) => problems.push(error),
  });

  it('answers every request with a non-5xx status and a well-formed body, writing nothing', async () => {
    await fc.assert(
      fc.asyncProperty(method, path, query, headers, async (m, p, q, h) => {
        // Prepare
        const request: HttpRequest = { method: m, path: p, query: q, headers: h };

        // Act
        const response = await route(request);

        // Assess
        expect(ALLOWED_STATUSES).toContain(response.status);
        if (response.kind === 'json' && response.status >= 400) {
          const body = response.body as { error: { code: unknown; message: unknown } };
          expect(typeof body.error.code).toBe('string');
          expect(typeof body.error.message).toBe('string');
          // A token is never echoed back.
          for (const token of [q.get('token'), h.authorization?.slice(7)]) {
            if (token && token.length >= 24) expect(body.error.message).not.toContain(token);
          }
        }
        if (response.kind === 'stream') {
          const aborted = new AbortController();
          aborted.abort();
          await expect(response.run(() => {}, aborted.signal)).resolves.toMatchObject({
            reason: 'aborted',
          });
        }
      }),
      { numRuns: RUNS },
    );
    expect(problems).toEqual([]);
    expect(log.appends).toEqual([]);
  }, 120_000);

  it('answers any JWT-shaped token for a private channel with 200, 401 or 403 only', async () => {
    await fc.assert(
      fc.asyncProperty(jwtish, fc.constantFrom('/events', '/poll'), async (token, p) => {
        const response = await route({
          method: 'GET',
          path: p,
          query: new URLSearchParams({ channel: 'private/a', token }),
          headers: {},
        });
        expect([200, 401, 403]).toContain(response.status);
        if (response.kind === 'stream') {
          const aborted = new AbortController();
          aborted.abort();
          await response.run(() => {}, aborted.signal);
        }
      }),
      { numRuns: RUNS },
    );
    expect(problems).toEqual([]);
  }, 120_000);

  it('opens a stream for a well-signed token that grants the channel, whatever else it holds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          anyText.filter(
            (k) => !['exp', 'nbf', 'aud', 'channels', 'iat', 'iss', 'sub', 'jti'].includes(k),
          ),
          fc.jsonValue(),
          { maxKeys: 4 },
        ),
        async (extra) => {
          const token = await new SignJWT({
            ...extra,
            aud: 'sse-pubsub',
            exp: Math.floor(Date.now() / 1000) + 60,
            channels: ['private/a'],
          })
            .setProtectedHeader({ alg: 'HS256' })
            .sign(SECRET);
          const response = await route({
            method: 'GET',
            path: '/poll',
            query: new URLSearchParams({ channel: 'private/a', token }),
            headers: {},
          });
          expect(response.status).toBe(200);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('Function: createRequestListener (fuzzed raw HTTP on a socket)', () => {
  let server: SubscribeServer;
  const problems: unknown[] = [];

  beforeAll(async () => {
    const route = createRouter({
      config: DEFAULT_SUBSCRIBE_CONFIG,
      feed: () => new PollingFeed(new RecordingLog(), { minMs: 5, maxMs: 10 }),
      clock: Date.now,
      random: Math.random,
      authorize: authorizerFromConfig(
        readAuthConfig({ AUTH_PRIVATE_PREFIXES: 'private/', AUTH_SECRET: SECRET_TEXT }),
      ),
      onError: (error) => problems.push(error),
    });
    server = await startSubscribeServer({ router: route, onError: (e) => problems.push(e) });
  });

  afterAll(async () => {
    await server.close();
  });

  /** Sends raw bytes, reads the status line, hangs up. */
  function rawStatus(text: string): Promise<number> {
    const { port } = new URL(server.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let received = '';
      socket.setTimeout(5_000, () => {
        socket.destroy();
        reject(new Error(`no answer to ${JSON.stringify(text.slice(0, 200))}`));
      });
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
        if (match?.[1] !== undefined) {
          socket.destroy();
          resolve(Number(match[1]));
        }
      });
      socket.on('error', reject);
      socket.on('close', () => {
        if (!/^HTTP\/1\.1 \d{3}/.test(received)) reject(new Error('closed without a status'));
      });
      socket.write(text, 'latin1');
    });
  }

  const printable = fc.string({
    unit: fc.oneof(
      { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), weight: 8 },
      {
        arbitrary: fc.constantFrom('%', '%00', '%0A', '%E2%80%A8', '%ZZ', '?', '#', '&'),
        weight: 2,
      },
    ),
    maxLength: 200,
  });
  const headerValue = fc.string({
    unit: fc.oneof(
      fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
      fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
    ),
    maxLength: 120,
  });

  it('never answers 5xx, whatever the request line and headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'OPTIONS', 'HEAD', 'BREW'),
        fc.oneof(
          printable.map((t) => `/events?${t}`),
          printable.map((t) => `/poll?channel=${t}`),
          printable.map((t) => `/events?channel=private/a&token=${t}`),
          printable.map((t) => `/${t}`),
          printable.map((t) => `http://x${t}`),
          printable,
        ),
        fc.array(
          fc.tuple(
            fc.constantFrom('Last-Event-ID', 'Authorization', 'Cookie', 'Origin', 'X-Junk'),
            headerValue,
          ),
          { maxLength: 4 },
        ),
        async (m, target, hs) => {
          const lines = [`${m} ${target} HTTP/1.1`, 'Host: 127.0.0.1'];
          for (const [name, value] of hs) lines.push(`${name}: ${value}`);
          const status = await rawStatus(`${lines.join('\r\n')}\r\n\r\n`);
          expect(status).toBeLessThan(500);
        },
      ),
      { numRuns: Math.min(RUNS, 200) },
    );
    expect(problems).toEqual([]);
  }, 120_000);
});

describe('Function: decodeCursor (fuzzed)', () => {
  /** Either a valid decoding or a MalformedCursorError; nothing else may come out. */
  function decodesOrRefuses(raw: string): void {
    let positions: ReadonlyMap<string, number>;
    try {
      positions = decodeCursor(raw);
    } catch (error) {
      expect(error).toBeInstanceOf(MalformedCursorError);
      return;
    }
    expect(positions.size).toBeGreaterThan(0);
    for (const [channel, position] of positions) {
      expect(channel).toMatch(CHANNEL);
      expect(Number.isSafeInteger(position) && position >= 0).toBe(true);
    }
  }

  it('decodes or refuses any text, never throwing anything else', () => {
    fc.assert(fc.property(cursorish, decodesOrRefuses), { numRuns: RUNS * 3 });
  });

  it('decodes or refuses any JSON behind the version prefix', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.dictionary(fc.oneof(channelName, anyText), fc.oneof(fc.jsonValue(), fc.double())),
        ),
        (value) => decodesOrRefuses(`1.${b64(JSON.stringify(value) ?? 'null')}`),
      ),
      { numRuns: RUNS * 3 },
    );
  });

  it('decodes or refuses every one-character change of a valid cursor', () => {
    fc.assert(
      fc.property(validCursor, fc.nat(), fc.string({ minLength: 1, maxLength: 1 }), (c, at, ch) => {
        const i = at % c.length;
        decodesOrRefuses(c.slice(0, i) + ch + c.slice(i + 1));
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('reads any resume point as latest, earliest, a cursor, or a MalformedCursorError', () => {
    fc.assert(
      fc.property(fc.oneof(cursorish, fc.constant(undefined)), (raw) => {
        try {
          expect(['latest', 'earliest', 'cursor']).toContain(parseResumePoint(raw).kind);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedCursorError);
        }
      }),
      { numRuns: RUNS * 3 },
    );
  });
});

describe('Function: processBatch (fuzzed SNS envelopes)', () => {
  class RecordingDeadLetters implements DeadLetterSink {
    readonly sent: { messageId: string; code: string }[] = [];
    async send(record: QueueRecord, rejection: Rejection): Promise<void> {
      this.sent.push({ messageId: record.messageId, code: rejection.code });
    }
  }

  const attribute = (value: fc.Arbitrary<string>) =>
    fc.oneof(
      { arbitrary: value.map((v) => ({ Type: 'String', Value: v })), weight: 18 },
      {
        arbitrary: fc.oneof(
          value.map((v) => ({ Type: 'Number', Value: v })),
          value.map((v) => ({ Type: 'String.Array', Value: v })),
          fc.integer().map((v) => ({ Type: 'String', Value: v })),
          fc.constant({ Type: 'String' }),
          fc.constant(null),
          value,
          fc.jsonValue(),
        ),
        weight: 2,
      },
    );
  const eventName = fc.oneof(
    { arbitrary: fc.stringMatching(EVENT), weight: 4 },
    {
      arbitrary: fc.constantFrom(
        'open',
        'error',
        'stream.reset',
        'stream.x',
        'message',
        'a'.repeat(65),
      ),
      weight: 1,
    },
    { arbitrary: anyText, weight: 1 },
  );
  const dedupeId = fc.oneof(
    { arbitrary: fc.uuid(), weight: 4 },
    { arbitrary: anyText, weight: 1 },
    {
      arbitrary: fc.constantFrom('', 'a'.repeat(257), 'é'.repeat(129), 'x\u0000y', 'x\u007f'),
      weight: 1,
    },
  );
  const wellFormedText = fc.string({
    unit: fc.oneof(
      { arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 1 }), weight: 6 },
      { arbitrary: fc.string({ unit: 'binary', maxLength: 1 }), weight: 3 },
      { arbitrary: fc.constantFrom('\r', '\n', '\0', '\r\n', 'data: x', 'id: 1'), weight: 1 },
    ),
    maxLength: 60,
  });
  const payload = fc.oneof(
    { arbitrary: wellFormedText, weight: 12 },
    { arbitrary: anyText, weight: 4 },
    { arbitrary: fc.constant('x'.repeat(262_145)), weight: 1 },
    { arbitrary: fc.constant('é'.repeat(131_073)), weight: 1 },
  );
  const envelope = fc.record(
    {
      Type: fc.oneof(
        { arbitrary: fc.constant('Notification'), weight: 19 },
        { arbitrary: fc.oneof(fc.constant('SubscriptionConfirmation'), anyText), weight: 1 },
      ),
      MessageId: fc.oneof(
        { arbitrary: fc.uuid(), weight: 19 },
        { arbitrary: fc.oneof(fc.constant(''), fc.integer(), fc.constant(null)), weight: 1 },
      ),
      Message: fc.oneof(
        { arbitrary: payload, weight: 19 },
        { arbitrary: fc.oneof(fc.integer(), fc.constant(null), fc.jsonValue()), weight: 1 },
      ),
      MessageAttributes: fc.oneof(
        {
          arbitrary: fc.record(
            {
              channel: attribute(
                fc.oneof(
                  { arbitrary: channelName, weight: 3 },
                  { arbitrary: channelish, weight: 1 },
                ),
              ),
              event: attribute(eventName),
              dedupeId: attribute(dedupeId),
              other: attribute(anyText),
            },
            { requiredKeys: ['channel'] },
          ),
          weight: 19,
        },
        { arbitrary: fc.constant({}), weight: 1 },
        { arbitrary: fc.oneof(fc.constant(null), fc.array(fc.jsonValue()), anyText), weight: 1 },
      ),
    },
    { requiredKeys: ['Type', 'MessageId', 'Message', 'MessageAttributes'] },
  );
  const body = fc.oneof(
    { arbitrary: envelope.map((e) => JSON.stringify(e)), weight: 18 },
    { arbitrary: fc.oneof(anyText, fc.json()), weight: 2 },
  );

  /** The contract (DESIGN.md "Publishing (SNS)"), restated: the channel and data a valid body stores. */
  function expected(text: string): { channel: string; data: string } | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return undefined;
    }
    const isObject = (v: unknown): v is Record<string, unknown> =>
      typeof v === 'object' && v !== null && !Array.isArray(v);
    if (!isObject(parsed) || parsed.Type !== 'Notification') return undefined;
    const { MessageId, Message, MessageAttributes } = parsed;
    if (typeof MessageId !== 'string' || MessageId === '' || typeof Message !== 'string') {
      return undefined;
    }
    if (MessageAttributes !== undefined && !isObject(MessageAttributes)) return undefined;
    const read = (name: string): string | undefined | false => {
      const a = MessageAttributes?.[name];
      if (a === undefined) return undefined;
      if (!isObject(a) || a.Type !== 'String' || typeof a.Value !== 'string') return false;
      return a.Value;
    };
    const channel = read('channel');
    const event = read('event');
    const dedupe = read('dedupeId');
    if (channel === false || event === false || dedupe === false) return undefined;
    if (channel === undefined || !CHANNEL.test(channel)) return undefined;
    if (event !== undefined) {
      if (!EVENT.test(event) || event === 'open' || event === 'error') return undefined;
      if (event.startsWith('stream.')) return undefined;
    }
    if (dedupe !== undefined) {
      const bytes = Buffer.byteLength(dedupe, 'utf8');
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
      if (bytes < 1 || bytes > 256 || /[\u0000-\u001f\u007f]/.test(dedupe)) return undefined;
      if (!dedupe.isWellFormed()) return undefined;
    }
    if (!Message.isWellFormed() || Buffer.byteLength(Message, 'utf8') > 262_144) return undefined;
    return { channel, data: Message };
  }

  it('stores exactly the valid messages and dead-letters every other, throwing nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(body, { minLength: 1, maxLength: 10 }), async (bodies) => {
        // Prepare
        const log = new RecordingLog();
        const deadLetters = new RecordingDeadLetters();
        const records = bodies.map((b, i) => ({ messageId: `sqs-${i}`, body: b }));
        const logLines: string[] = [];

        // Act
        const result = await processBatch(records, {
          eventLog: log,
          deadLetters,
          log: { info: () => {}, error: (message) => logLines.push(message) },
          metrics: { rejected() {}, appended() {}, duplicates() {}, failed() {} },
        });

        // Assess
        expect(result.failedMessageIds).toEqual([]);
        const wanted = new Map<string, string[]>();
        const invalid: string[] = [];
        records.forEach((record) => {
          const valid = expected(record.body);
          if (valid === undefined) invalid.push(record.messageId);
          else wanted.set(valid.channel, [...(wanted.get(valid.channel) ?? []), valid.data]);
        });
        const stored = new Map<string, string[]>();
        for (const { channel, events } of log.appends) {
          stored.set(channel, [...(stored.get(channel) ?? []), ...events.map((e) => e.data)]);
        }
        expect(stored).toEqual(wanted);
        expect(deadLetters.sent.map((s) => s.messageId).sort()).toEqual([...invalid].sort());
        expect(logLines.filter((l) => l === 'message rejected')).toHaveLength(invalid.length);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});
