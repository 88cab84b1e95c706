import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeCursor,
  encodeCursor,
  MalformedCursorError,
  parseResumePoint,
} from '../../../../functions/core/cursor.js';

const channelName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/);

describe('Function: encodeCursor', () => {
  it('is versioned and safe in a header, a query string and an SSE id', () => {
    const cursor = encodeCursor(new Map([['orders/42', 17]]));
    expect(cursor.startsWith('1.')).toBe(true);
    expect(cursor).toMatch(/^[A-Za-z0-9._-]+$/);
  });

  it('round-trips any channel positions', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(channelName, fc.nat({ max: Number.MAX_SAFE_INTEGER })), {
          minLength: 1,
          maxLength: 16,
          selector: ([c]) => c,
        }),
        (entries) => {
          const positions = new Map(entries);
          expect(decodeCursor(encodeCursor(positions))).toEqual(positions);
        },
      ),
    );
  });
});

describe('Function: parseResumePoint', () => {
  it('treats absent, empty and "latest" as latest', () => {
    for (const raw of [undefined, '', 'latest']) {
      expect(parseResumePoint(raw)).toEqual({ kind: 'latest' });
    }
  });

  it('reads earliest', () => {
    expect(parseResumePoint('earliest')).toEqual({ kind: 'earliest' });
  });

  it('reads a cursor it issued', () => {
    const positions = new Map([
      ['a', 1],
      ['b', 0],
    ]);
    expect(parseResumePoint(encodeCursor(positions))).toEqual({ kind: 'cursor', positions });
  });

  const b64 = (text: string) => `1.${Buffer.from(text).toString('base64url')}`;

  it.each([
    ['a number', '42', 'unknown version'],
    ['another version', '2.e30', 'unknown version'],
    ['non-base64url text', '1.a b', 'not base64url'],
    ['bytes that are not JSON', '1.AAAA', 'does not decode'],
    ['a JSON array', b64('[1]'), 'channel positions'],
    ['no channel', b64('{}'), 'holds no channel'],
    ['an invalid channel', b64('{"a b":1}'), 'invalid channel'],
    ['a negative position', b64('{"a":-1}'), 'invalid position'],
    ['a fractional position', b64('{"a":1.5}'), 'invalid position'],
    ['a string position', b64('{"a":"1"}'), 'invalid position'],
    ['an oversized cursor', `1.${'A'.repeat(20_000)}`, 'longer than'],
  ])('refuses %s', (_, raw, message) => {
    expect(() => parseResumePoint(raw)).toThrow(MalformedCursorError);
    expect(() => parseResumePoint(raw)).toThrow(message);
  });

  it('never throws anything but MalformedCursorError, whatever the input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `1.${s}`),
        ),
        (raw) => {
          try {
            parseResumePoint(raw);
          } catch (error) {
            expect(error).toBeInstanceOf(MalformedCursorError);
          }
        },
      ),
    );
  });
});
