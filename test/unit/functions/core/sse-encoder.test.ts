import type { EventSourceMessage, ParseError } from 'eventsource-parser';
import { createParser } from 'eventsource-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_NAME_PATTERN } from '../../../../functions/core/contract.js';
import type { SseEvent } from '../../../../functions/core/sse-encoder.js';
import {
  DEFAULT_PADDING_BYTES,
  encodeComment,
  encodeEvent,
  encodePadding,
  encodeRetry,
  SseEncodingError,
} from '../../../../functions/core/sse-encoder.js';

/** Everything a parser reported, each kind in order, plus one log of all in order. */
interface Parsed {
  readonly events: EventSourceMessage[];
  readonly retries: number[];
  readonly comments: string[];
  readonly errors: ParseError[];
  readonly log: ParsedItem[];
}

type ParsedItem =
  | { readonly kind: 'event'; readonly event: EventSourceMessage }
  | { readonly kind: 'retry'; readonly ms: number }
  | { readonly kind: 'comment'; readonly text: string };

/** Feeds the chunks, in order, to a fresh eventsource-parser and records what it reports. */
function parse(chunks: readonly string[]): Parsed {
  const parsed: Parsed = { events: [], retries: [], comments: [], errors: [], log: [] };
  const parser = createParser({
    onEvent: (event) => {
      parsed.events.push(event);
      parsed.log.push({ kind: 'event', event });
    },
    onRetry: (ms) => {
      parsed.retries.push(ms);
      parsed.log.push({ kind: 'retry', ms });
    },
    onComment: (text) => {
      parsed.comments.push(text);
      parsed.log.push({ kind: 'comment', text });
    },
    onError: (error) => {
      parsed.errors.push(error);
    },
  });
  for (const chunk of chunks) parser.feed(chunk);
  return parsed;
}

/** Cuts `text` at the given offsets (any order, any range; taken modulo its length + 1). */
function splitAt(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(text.slice(start, point));
    start = point;
  }
  chunks.push(text.slice(start));
  return chunks;
}

/** Cuts bytes the same way, for feeding a streaming decoder. */
function splitBytesAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

/** What a browser does: UTF-8 bytes through a streaming TextDecoder, then the parser. */
function parseBytes(chunks: readonly Uint8Array[]): Parsed {
  const decoder = new TextDecoder('utf-8');
  const text = chunks.map((chunk) => decoder.decode(chunk, { stream: true }));
  text.push(decoder.decode());
  return parse(text);
}

/** The data a client sees: every CR, LF and CRLF becomes LF (WHATWG HTML §9.2.5). */
function normalise(data: string): string {
  return data.replace(/\r\n|\r|\n/g, '\n');
}

/** The event name a client sees from eventsource-parser (`undefined` means `message`). */
function seenEventName(event: string | undefined): string | undefined {
  return event === '' ? undefined : event;
}

const utf8 = new TextEncoder();

// Arbitraries. Payload text leans hard on what could break framing: line breaks, NUL,
// colons, spaces, BOM, Unicode separators, field names, lone surrogates.
const tricky = fc.constantFrom(
  '\r',
  '\n',
  '\r\n',
  '\n\r',
  '\u0000',
  ':',
  ' ',
  '\uFEFF',
  '\u2028',
  '\u2029',
  '\u0085',
  'data:',
  'id:',
  'event:',
  'retry:',
  'é',
  '😀',
);
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const wellFormedPayload = fc.string({
  unit: fc.oneof(
    { arbitrary: tricky, weight: 2 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 1 }), weight: 3 },
  ),
  maxLength: 60,
});
const anyPayload = fc.string({
  unit: fc.oneof(
    { arbitrary: tricky, weight: 2 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 1 }), weight: 3 },
    { arbitrary: loneSurrogate, weight: 1 },
  ),
  maxLength: 60,
});
const eventName = fc.stringMatching(EVENT_NAME_PATTERN);
/** Any id the encoder accepts: no CR, LF or NUL, well-formed. */
const safeId = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom(' ', ':', '\uFEFF', '\u2028'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    maxLength: 30,
  })
  .filter((id) => !id.includes('\r') && !id.includes('\n') && !id.includes('\u0000'));
const retryMs = fc.nat({ max: 3_600_000 });
const cuts = fc.array(fc.nat(), { maxLength: 12 });

const sseEvent: fc.Arbitrary<SseEvent> = fc.record(
  { id: safeId, event: eventName, data: anyPayload, retry: retryMs },
  { requiredKeys: ['data'] },
);

describe('Function: encodeEvent', () => {
  it('writes a data-only event as one data line and a blank line', () => {
    expect(encodeEvent({ data: 'hello' })).toBe('data: hello\n\n');
  });

  it('writes event, then data, then id (last, so a client cannot adopt it before the data)', () => {
    expect(encodeEvent({ id: '42', event: 'price', data: '{"a":1}' })).toBe(
      'event: price\ndata: {"a":1}\nid: 42\n\n',
    );
  });

  it('writes retry after event and before data', () => {
    expect(encodeEvent({ id: '1', event: 'tick', data: 'y', retry: 3000 })).toBe(
      'event: tick\nretry: 3000\ndata: y\nid: 1\n\n',
    );
    const parsed = parse([encodeEvent({ id: '1', event: 'tick', data: 'y', retry: 3000 })]);
    expect(parsed.retries).toEqual([3000]);
    expect(parsed.events).toEqual([{ id: '1', event: 'tick', data: 'y' }]);
  });

  it('splits data at LF, CR and CRLF, one data line each', () => {
    const encoded = encodeEvent({ data: 'a\nb\rc\r\nd' });
    expect(encoded).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
    expect(parse([encoded]).events).toEqual([
      { id: undefined, event: undefined, data: 'a\nb\nc\nd' },
    ]);
  });

  it('keeps empty, consecutive and trailing lines of data', () => {
    expect(encodeEvent({ data: 'a\n\nb\n' })).toBe('data: a\ndata:\ndata: b\ndata:\n\n');
    expect(encodeEvent({ data: '\r\n' })).toBe('data:\ndata:\n\n');
    // LF then CR is two line breaks, not one.
    expect(encodeEvent({ data: '\n\r' })).toBe('data:\ndata:\ndata:\n\n');
    expect(parse([encodeEvent({ data: 'a\n\nb\n' })]).events[0]?.data).toBe('a\n\nb\n');
    expect(parse([encodeEvent({ data: '\r\n' })]).events[0]?.data).toBe('\n');
    expect(parse([encodeEvent({ data: '\n\r' })]).events[0]?.data).toBe('\n\n');
  });

  it('delivers an empty payload: `data:` then the blank line is dispatched with data ""', () => {
    // WHATWG HTML §9.2.6: a `data` field appends the value and an LF, so the buffer is
    // "\n", not "", when the blank line dispatches; the LF is then removed.
    const encoded = encodeEvent({ id: '9', event: 'ping', data: '' });
    expect(encoded).toBe('event: ping\ndata:\nid: 9\n\n');
    expect(parse([encoded]).events).toEqual([{ id: '9', event: 'ping', data: '' }]);
  });

  it('always writes a data line, because a block without one is never dispatched', () => {
    // The contrast that makes the rule necessary: the same block minus `data:` is dropped.
    expect(parse(['id: 9\nevent: ping\n\n']).events).toEqual([]);
    expect(encodeEvent({ data: '' })).toBe('data:\n\n');
  });

  it('preserves leading spaces: the client removes exactly one space after the colon', () => {
    const encoded = encodeEvent({ id: ' 7', event: 'x', data: ' one\n  two\n' });
    expect(encoded).toBe('event: x\ndata:  one\ndata:   two\ndata:\nid:  7\n\n');
    expect(parse([encoded]).events).toEqual([{ id: ' 7', event: 'x', data: ' one\n  two\n' }]);
  });

  it('delivers NUL inside data unchanged', () => {
    const encoded = encodeEvent({ data: 'a\u0000b\u0000' });
    expect(encoded).toBe('data: a\u0000b\u0000\n\n');
    expect(parse([encoded]).events[0]?.data).toBe('a\u0000b\u0000');
  });

  it('delivers a BOM at the start of data, also through a UTF-8 decoder', () => {
    const encoded = encodeEvent({ data: '\uFEFFhello' });
    expect(encoded).toBe('data: \uFEFFhello\n\n');
    expect(parse([encoded]).events[0]?.data).toBe('\uFEFFhello');
    // Only a BOM at the very start of the stream is dropped; a stream never starts with data.
    expect(parseBytes([utf8.encode(encoded)]).events[0]?.data).toBe('\uFEFFhello');
  });

  it('does not treat U+2028, U+2029 or U+0085 as line breaks', () => {
    const data = 'a\u2028b\u2029c\u0085d';
    const encoded = encodeEvent({ data });
    expect(encoded).toBe(`data: ${data}\n\n`);
    expect(parseBytes([utf8.encode(encoded)]).events[0]?.data).toBe(data);
  });

  it('writes an empty id as `id:`, which clients take as "no last event ID"', () => {
    const encoded = encodeEvent({ id: '', data: 'x' });
    expect(encoded).toBe('data: x\nid:\n\n');
    expect(parse([encoded]).events).toEqual([{ id: '', event: undefined, data: 'x' }]);
  });

  it('writes an empty event name as `event:`, which clients read as `message`', () => {
    const encoded = encodeEvent({ event: '', data: 'x' });
    expect(encoded).toBe('event:\ndata: x\n\n');
    expect(parse([encoded]).events).toEqual([{ id: undefined, event: undefined, data: 'x' }]);
  });

  it('writes retry 0', () => {
    expect(encodeEvent({ data: 'x', retry: 0 })).toBe('retry: 0\ndata: x\n\n');
  });

  describe('injection attempts', () => {
    const attack = '\n\nid: 666\nevent: x\ndata: y';

    it('turns forged fields in data into data lines', () => {
      const encoded = encodeEvent({ id: '5', event: 'safe', data: attack });
      expect(encoded).toBe(
        'event: safe\ndata:\ndata:\ndata: id: 666\ndata: event: x\ndata: data: y\nid: 5\n\n',
      );
    });

    it('yields exactly one event with the original data however the bytes are cut', () => {
      const encoded = encodeEvent({ id: '5', event: 'safe', data: attack });
      for (let cut = 0; cut <= encoded.length; cut++) {
        const parsed = parse([encoded.slice(0, cut), encoded.slice(cut)]);
        expect(parsed.events).toEqual([{ id: '5', event: 'safe', data: attack }]);
        expect(parsed.retries).toEqual([]);
        expect(parsed.comments).toEqual([]);
        expect(parsed.errors).toEqual([]);
      }
    });

    it.each([
      ['CR', '\r\rid: 666\revent: x\rretry: 1\rdata: y'],
      ['CRLF', '\r\n\r\nid: 666\r\nevent: x\r\nretry: 1\r\ndata: y'],
      ['a comment and a blank line', 'a\n: hidden\n\nretry: 1\n\n'],
      ['NUL and a lone CR at the end', 'x\u0000\r'],
    ])('yields one event for data with %s', (_, data) => {
      const encoded = encodeEvent({ id: '5', event: 'safe', data });
      expect(encoded).not.toContain('\r');
      const parsed = parse([encoded]);
      expect(parsed.events).toEqual([{ id: '5', event: 'safe', data: normalise(data) }]);
      expect(parsed.retries).toEqual([]);
      expect(parsed.comments).toEqual([]);
      expect(parsed.errors).toEqual([]);
    });
  });

  describe('refusals', () => {
    it.each([
      ['LF', 'a\nevent: alert'],
      ['CR', 'a\revent: alert'],
      ['CRLF', 'a\r\nevent: alert'],
      ['NUL', 'a\u0000b'],
      ['a lone surrogate', 'a\uD800b'],
    ])('refuses an id containing %s', (_, id) => {
      expect(() => encodeEvent({ id, data: 'x' })).toThrow(SseEncodingError);
      expect(() => encodeEvent({ id, data: 'x' })).toThrow(/^id /);
      try {
        encodeEvent({ id, data: 'x' });
      } catch (error) {
        expect(error).toBeInstanceOf(SseEncodingError);
        expect((error as SseEncodingError).field).toBe('id');
        expect((error as SseEncodingError).name).toBe('SseEncodingError');
      }
    });

    it.each([
      ['LF', 'message\ndata: pwned'],
      ['CR', 'message\rdata: pwned'],
      ['CRLF', 'message\r\ndata: pwned'],
      ['a lone surrogate', 'a\uDC00'],
    ])('refuses an event name containing %s', (_, event) => {
      expect(() => encodeEvent({ event, data: 'x' })).toThrow(SseEncodingError);
      expect(() => encodeEvent({ event, data: 'x' })).toThrow(/^event /);
      try {
        encodeEvent({ event, data: 'x' });
      } catch (error) {
        expect((error as SseEncodingError).field).toBe('event');
      }
    });

    it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])(
      'refuses retry %s',
      (retry) => {
        expect(() => encodeEvent({ data: 'x', retry })).toThrow(SseEncodingError);
        expect(() => encodeEvent({ data: 'x', retry })).toThrow(/^retry /);
        try {
          encodeEvent({ data: 'x', retry });
        } catch (error) {
          expect((error as SseEncodingError).field).toBe('retry');
        }
      },
    );

    it('quotes a long bad value shortened, not in full', () => {
      const id = `${'x'.repeat(1000)}\n`;
      expect(() => encodeEvent({ id, data: 'x' })).toThrow(
        /^id "x{80}…" must not contain CR or LF$/,
      );
    });
  });

  describe('round trip through eventsource-parser (properties)', () => {
    it('yields exactly one event with the same data (LF-normalised), name and id, in any chunking', () => {
      fc.assert(
        fc.property(anyPayload, eventName, safeId, cuts, (data, event, id, at) => {
          const encoded = encodeEvent({ id, event, data });
          const parsed = parse(splitAt(encoded, at));
          expect(parsed.events).toEqual([{ id, event, data: normalise(data) }]);
          expect(parsed.retries).toEqual([]);
          expect(parsed.comments).toEqual([]);
          expect(parsed.errors).toEqual([]);
        }),
        { numRuns: 500 },
      );
    });

    it('round-trips with any combination of optional fields, retry included', () => {
      fc.assert(
        fc.property(sseEvent, cuts, (input, at) => {
          const parsed = parse(splitAt(encodeEvent(input), at));
          expect(parsed.events).toEqual([
            { id: input.id, event: seenEventName(input.event), data: normalise(input.data) },
          ]);
          expect(parsed.retries).toEqual(input.retry === undefined ? [] : [input.retry]);
          expect(parsed.comments).toEqual([]);
          expect(parsed.errors).toEqual([]);
        }),
        { numRuns: 300 },
      );
    });

    it('round-trips many concatenated events in order', () => {
      fc.assert(
        fc.property(fc.array(sseEvent, { maxLength: 8 }), cuts, (inputs, at) => {
          const stream = inputs.map(encodeEvent).join('');
          const parsed = parse(splitAt(stream, at));
          expect(parsed.events).toEqual(
            inputs.map((input) => ({
              id: input.id,
              event: seenEventName(input.event),
              data: normalise(input.data),
            })),
          );
          expect(parsed.retries).toEqual(inputs.flatMap((input) => input.retry ?? []));
          expect(parsed.errors).toEqual([]);
        }),
        { numRuns: 200 },
      );
    });

    it('round-trips as UTF-8 bytes cut anywhere, inside multi-byte characters too', () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.record(
              { id: safeId, event: eventName, data: wellFormedPayload },
              { requiredKeys: ['data'] },
            ),
            { minLength: 1, maxLength: 4 },
          ),
          cuts,
          (inputs, at) => {
            const bytes = utf8.encode(inputs.map(encodeEvent).join(''));
            const parsed = parseBytes(splitBytesAt(bytes, at));
            expect(parsed.events).toEqual(
              inputs.map((input) => ({
                id: input.id,
                event: input.event,
                data: normalise(input.data),
              })),
            );
            expect(parsed.errors).toEqual([]);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('never writes CR, and starts every line with a field name it chose or a colon', () => {
      fc.assert(
        fc.property(sseEvent, (input) => {
          const encoded = encodeEvent(input);
          expect(encoded).not.toContain('\r');
          expect(encoded.endsWith('\n\n')).toBe(true);
          const lines = encoded.slice(0, -2).split('\n');
          for (const line of lines) expect(line).toMatch(/^(id|event|retry|data)(:$|: )/);
        }),
      );
    });
  });
});

describe('Function: encodeRetry', () => {
  it('writes a retry-only block', () => {
    expect(encodeRetry(3000)).toBe('retry: 3000\n\n');
    expect(encodeRetry(0)).toBe('retry: 0\n\n');
  });

  it('sets the reconnection time without dispatching an event', () => {
    const parsed = parse([encodeRetry(2500), encodeEvent({ data: 'after' })]);
    expect(parsed.retries).toEqual([2500]);
    expect(parsed.events).toEqual([{ id: undefined, event: undefined, data: 'after' }]);
    expect(parsed.errors).toEqual([]);
  });

  it.each([-1, 0.5, Number.NaN, Number.NEGATIVE_INFINITY, 2 ** 53])('refuses %s', (ms) => {
    expect(() => encodeRetry(ms)).toThrow(SseEncodingError);
    expect(() => encodeRetry(ms)).toThrow(/^retry must be a non-negative integer/);
  });
});

describe('Function: encodeComment', () => {
  it('writes one comment line', () => {
    expect(encodeComment('heartbeat')).toBe(': heartbeat\n');
  });

  it('writes an empty comment as a lone colon', () => {
    expect(encodeComment('')).toBe(':\n');
    expect(parse([encodeComment('')]).comments).toEqual(['']);
  });

  it('prefixes every line, whatever the line break', () => {
    expect(encodeComment('a\nb\rc\r\nd')).toBe(': a\n: b\n: c\n: d\n');
    expect(encodeComment('a\n\nb\n')).toBe(': a\n:\n: b\n:\n');
  });

  it('preserves a leading space', () => {
    expect(encodeComment(' x')).toBe(':  x\n');
    expect(parse([encodeComment(' x')]).comments).toEqual([' x']);
  });

  it('cannot inject a field, a blank line or an event', () => {
    const text = 'x\n\ndata: evil\n\nid: 666\r\nretry: 1\revent: e\n';
    const encoded = encodeComment(text);
    expect(encoded).toBe(': x\n:\n: data: evil\n:\n: id: 666\n: retry: 1\n: event: e\n:\n');
    const parsed = parse([encoded]);
    expect(parsed.events).toEqual([]);
    expect(parsed.retries).toEqual([]);
    expect(parsed.errors).toEqual([]);
    expect(parsed.comments.join('\n')).toBe(normalise(text));
  });

  it('does not end or split an event it is written into the middle of', () => {
    const event = encodeEvent({ id: '1', data: 'a\nb' });
    const [head, tail] = [event.slice(0, 'data: a\n'.length), event.slice('data: a\n'.length)];
    const parsed = parse([head, encodeComment('beat\n\n'), tail]);
    expect(parsed.events).toEqual([{ id: '1', event: undefined, data: 'a\nb' }]);
  });

  it('round-trips any text as comments only (property)', () => {
    fc.assert(
      fc.property(anyPayload, cuts, (text, at) => {
        const parsed = parse(splitAt(encodeComment(text), at));
        expect(parsed.events).toEqual([]);
        expect(parsed.retries).toEqual([]);
        expect(parsed.errors).toEqual([]);
        expect(parsed.comments.join('\n')).toBe(normalise(text));
      }),
      { numRuns: 300 },
    );
  });
});

describe('Function: encodePadding', () => {
  it('writes a comment line of exactly the given number of bytes', () => {
    expect(encodePadding(2)).toBe(':\n');
    expect(encodePadding(5)).toBe(':   \n');
    expect(utf8.encode(encodePadding(1000)).byteLength).toBe(1000);
  });

  it(`defaults to ${DEFAULT_PADDING_BYTES} bytes`, () => {
    expect(DEFAULT_PADDING_BYTES).toBe(2048);
    expect(utf8.encode(encodePadding()).byteLength).toBe(2048);
  });

  it('is read as one comment and nothing else', () => {
    const parsed = parse([encodePadding(), encodeEvent({ data: 'first' })]);
    expect(parsed.comments).toEqual([' '.repeat(2048 - 3)]);
    expect(parsed.events).toEqual([{ id: undefined, event: undefined, data: 'first' }]);
    expect(parsed.errors).toEqual([]);
  });

  it.each([1, 0, -5, 2.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses %s bytes', (bytes) => {
    expect(() => encodePadding(bytes)).toThrow(SseEncodingError);
    expect(() => encodePadding(bytes)).toThrow(/^padding must be an integer of at least 2 bytes/);
    try {
      encodePadding(bytes);
    } catch (error) {
      expect((error as SseEncodingError).field).toBe('bytes');
    }
  });
});

describe('Functions together: a whole stream', () => {
  type Item =
    | { readonly kind: 'event'; readonly input: SseEvent }
    | { readonly kind: 'comment'; readonly text: string }
    | { readonly kind: 'retry'; readonly ms: number }
    | { readonly kind: 'padding'; readonly bytes: number };

  const item: fc.Arbitrary<Item> = fc.oneof(
    sseEvent.map((input) => ({ kind: 'event' as const, input })),
    anyPayload.map((text) => ({ kind: 'comment' as const, text })),
    retryMs.map((ms) => ({ kind: 'retry' as const, ms })),
    fc.integer({ min: 2, max: 64 }).map((bytes) => ({ kind: 'padding' as const, bytes })),
  );

  function encode(entry: Item): string {
    switch (entry.kind) {
      case 'event':
        return encodeEvent(entry.input);
      case 'comment':
        return encodeComment(entry.text);
      case 'retry':
        return encodeRetry(entry.ms);
      case 'padding':
        return encodePadding(entry.bytes);
    }
  }

  /** What the parser must report for an item, in order. */
  function expected(entry: Item): ParsedItem[] {
    switch (entry.kind) {
      case 'event': {
        const { id, event, data, retry } = entry.input;
        const retries: ParsedItem[] = retry === undefined ? [] : [{ kind: 'retry', ms: retry }];
        return [
          ...retries,
          { kind: 'event', event: { id, event: seenEventName(event), data: normalise(data) } },
        ];
      }
      case 'comment':
        return normalise(entry.text)
          .split('\n')
          .map((text) => ({ kind: 'comment', text }));
      case 'retry':
        return [{ kind: 'retry', ms: entry.ms }];
      case 'padding':
        return [{ kind: 'comment', text: ' '.repeat(Math.max(0, entry.bytes - 3)) }];
    }
  }

  it('reports exactly the events, comments and retries written, in order, in any chunking', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 10 }), cuts, (items, at) => {
        const parsed = parse(splitAt(items.map(encode).join(''), at));
        expect(parsed.log).toEqual(items.flatMap(expected));
        expect(parsed.errors).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
