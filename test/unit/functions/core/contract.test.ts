import { describe, expect, it } from 'vitest';
import {
  checkChannel,
  checkDedupeId,
  checkEventName,
  checkPayload,
  MAX_PAYLOAD_BYTES,
  validateMessage,
} from '../../../../functions/core/contract.js';

describe('Function: checkChannel', () => {
  it.each(['a', 'orders/42', 'user@example.com', 'A.b_c:d-e', '9', 'x'.repeat(128)])(
    'accepts %s',
    (channel) => expect(checkChannel(channel)).toBeUndefined(),
  );

  it.each([
    ['empty', ''],
    ['a leading dot', '.hidden'],
    ['a leading dash', '-x'],
    ['a space', 'a b'],
    ['a hash (reserved for dedupe markers)', 'a#b'],
    ['a line break', 'a\nb'],
    ['non-ASCII', 'café'],
    ['129 characters', 'x'.repeat(129)],
  ])('refuses %s', (_, channel) => {
    expect(checkChannel(channel)?.code).toBe(
      channel === '' ? 'MISSING_CHANNEL' : 'INVALID_CHANNEL',
    );
  });

  it('names a missing channel', () => {
    expect(checkChannel(undefined)).toEqual({
      code: 'MISSING_CHANNEL',
      field: 'channel',
      message: 'channel is required',
    });
  });

  it('quotes a bad value, shortened, in the message', () => {
    const message = checkChannel(`bad ${'x'.repeat(500)}`)?.message ?? '';
    expect(message).toContain('"bad xxx');
    expect(message.length).toBeLessThan(200);
  });
});

describe('Function: checkEventName', () => {
  it.each(['message', 'order.updated', 'a:b-c_d', 'x'.repeat(64), 'opener', 'errors', 'streams'])(
    'accepts %s',
    (event) => expect(checkEventName(event)).toBeUndefined(),
  );

  it.each(['open', 'error', 'stream.reset', 'stream.anything'])(
    'refuses the reserved %s',
    (event) => {
      expect(checkEventName(event)?.code).toBe('RESERVED_EVENT_NAME');
    },
  );

  it.each(['', 'a b', 'a/b', 'a\r', 'x'.repeat(65), '.x'])('refuses the malformed %j', (event) => {
    expect(checkEventName(event)?.code).toBe('INVALID_EVENT_NAME');
  });
});

describe('Function: checkDedupeId', () => {
  it.each(['order-42', '6f1c…', 'x'.repeat(256)])('accepts %s', (id) => {
    expect(checkDedupeId(id)).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['over 256 bytes', 'é'.repeat(129)],
    ['a control character', 'a\u0000b'],
    ['a line break', 'a\nb'],
    ['a lone surrogate', 'a\ud800'],
  ])('refuses %s', (_, id) => {
    expect(checkDedupeId(id)?.code).toBe('INVALID_DEDUPE_ID');
  });
});

describe('Function: checkPayload', () => {
  it('accepts exactly the byte limit and refuses one byte more, counting UTF-8 bytes', () => {
    expect(checkPayload('x'.repeat(MAX_PAYLOAD_BYTES))).toBeUndefined();
    expect(checkPayload('x'.repeat(MAX_PAYLOAD_BYTES + 1))?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(checkPayload('é'.repeat(MAX_PAYLOAD_BYTES / 2 + 1))?.message).toBe(
      `data is ${MAX_PAYLOAD_BYTES + 2} bytes; the limit is ${MAX_PAYLOAD_BYTES} bytes`,
    );
  });

  it('refuses text that is not well-formed Unicode', () => {
    expect(checkPayload('bad \udc00 half')?.code).toBe('INVALID_PAYLOAD');
  });

  it('accepts empty and multi-line payloads', () => {
    expect(checkPayload('')).toBeUndefined();
    expect(checkPayload('a\r\nb\rc\nd')).toBeUndefined();
  });
});

describe('Function: validateMessage', () => {
  it('fills in the default event name', () => {
    expect(validateMessage({ channel: 'c', data: 'd' })).toEqual({
      ok: true,
      message: { channel: 'c', event: 'message', dedupeId: undefined, data: 'd' },
    });
  });

  it('reports the first violation, channel before event before payload', () => {
    const result = validateMessage(
      { channel: 'bad channel', event: 'open', data: 'x'.repeat(10) },
      5,
    );
    expect(result.ok === false && result.violation.code).toBe('INVALID_CHANNEL');
    const second = validateMessage({ channel: 'c', event: 'open', data: 'x'.repeat(10) }, 5);
    expect(second.ok === false && second.violation.code).toBe('RESERVED_EVENT_NAME');
    const third = validateMessage({ channel: 'c', data: 'x'.repeat(10) }, 5);
    expect(third.ok === false && third.violation.code).toBe('PAYLOAD_TOO_LARGE');
  });
});
