import { describe, expect, it } from 'vitest';
import { parseSnsEnvelope } from '../../../../functions/writer/sns-envelope.js';
import { snsRecord } from '../../../fixtures/sqs-events.js';

describe('Function: parseSnsEnvelope', () => {
  it('reads the MessageId, the Message and the contract attributes', () => {
    const { body } = snsRecord({
      sqsMessageId: 'q',
      snsMessageId: 'sns-1',
      message: 'payload',
      attributes: { channel: 'c', event: 'e', dedupeId: 'd', other: 'ignored' },
    });
    expect(parseSnsEnvelope(body)).toEqual({
      ok: true,
      notification: {
        messageId: 'sns-1',
        message: { channel: 'c', event: 'e', dedupeId: 'd', data: 'payload' },
      },
    });
  });

  it('leaves absent attributes undefined', () => {
    const { body } = snsRecord({ sqsMessageId: 'q', message: 'p' });
    const result = parseSnsEnvelope(body);
    expect(result.ok && result.notification.message).toEqual({
      channel: undefined,
      event: undefined,
      dedupeId: undefined,
      data: 'p',
    });
  });

  it.each([
    ['not JSON', 'plain text'],
    ['JSON that is not a notification', '{"hello":1}'],
    ['a notification without MessageId', '{"Type":"Notification","Message":"x"}'],
    ['a notification without Message', '{"Type":"Notification","MessageId":"m"}'],
    [
      'attributes that are not an object',
      '{"Type":"Notification","MessageId":"m","Message":"x","MessageAttributes":[]}',
    ],
  ])('refuses %s as MALFORMED_ENVELOPE', (_, body) => {
    expect(parseSnsEnvelope(body)).toMatchObject({ ok: false, code: 'MALFORMED_ENVELOPE' });
  });

  it.each(['Number', 'Binary', 'String.Array'])('refuses a %s-typed contract attribute', (type) => {
    const { body } = snsRecord({
      sqsMessageId: 'q',
      message: 'p',
      attributes: { channel: { Type: type, Value: 'c' } },
    });
    expect(parseSnsEnvelope(body)).toEqual({
      ok: false,
      code: 'INVALID_ATTRIBUTE_TYPE',
      message: `message attribute channel must have DataType String, got ${type}`,
    });
  });
});
