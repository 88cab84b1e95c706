import type { UncheckedMessage } from '../core/contract.js';

/**
 * Reads the SNS notification that SNS → SQS delivery wraps around a published message
 * (raw message delivery off). The envelope carries what the writer needs and a raw
 * body lacks: the SNS MessageId, which is the dedupe key when a publisher gives none,
 * and the message attributes.
 */

export interface SnsNotification {
  /** SNS's id for the publish: the same on every redelivery of that publish. */
  readonly messageId: string;
  readonly message: UncheckedMessage;
}

export type EnvelopeResult =
  | { readonly ok: true; readonly notification: SnsNotification }
  | { readonly ok: false; readonly code: EnvelopeErrorCode; readonly message: string };

export type EnvelopeErrorCode = 'MALFORMED_ENVELOPE' | 'INVALID_ATTRIBUTE_TYPE';

/** The attributes the contract defines; any other attribute is ignored. */
const CONTRACT_ATTRIBUTES = ['channel', 'event', 'dedupeId'] as const;

function fail(code: EnvelopeErrorCode, message: string): EnvelopeResult {
  return { ok: false, code, message };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseSnsEnvelope(body: string): EnvelopeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return fail(
      'MALFORMED_ENVELOPE',
      'SQS body is not an SNS notification (JSON expected; raw message delivery must be off)',
    );
  }
  if (!isRecord(parsed) || parsed.Type !== 'Notification') {
    return fail(
      'MALFORMED_ENVELOPE',
      'SQS body is not an SNS notification (Type "Notification" expected; raw message delivery must be off)',
    );
  }
  const { MessageId, Message, MessageAttributes } = parsed;
  if (typeof MessageId !== 'string' || MessageId === '') {
    return fail('MALFORMED_ENVELOPE', 'SNS notification has no MessageId');
  }
  if (typeof Message !== 'string') {
    return fail('MALFORMED_ENVELOPE', 'SNS notification has no Message text');
  }
  if (MessageAttributes !== undefined && !isRecord(MessageAttributes)) {
    return fail('MALFORMED_ENVELOPE', 'SNS notification MessageAttributes is not an object');
  }

  const attributes: Partial<Record<(typeof CONTRACT_ATTRIBUTES)[number], string>> = {};
  for (const name of CONTRACT_ATTRIBUTES) {
    const attribute = MessageAttributes?.[name];
    if (attribute === undefined) continue;
    if (
      !isRecord(attribute) ||
      attribute.Type !== 'String' ||
      typeof attribute.Value !== 'string'
    ) {
      const type = isRecord(attribute) ? String(attribute.Type) : typeof attribute;
      return fail(
        'INVALID_ATTRIBUTE_TYPE',
        `message attribute ${name} must have DataType String, got ${type}`,
      );
    }
    attributes[name] = attribute.Value;
  }

  return {
    ok: true,
    notification: {
      messageId: MessageId,
      message: {
        channel: attributes.channel,
        event: attributes.event,
        dedupeId: attributes.dedupeId,
        data: Message,
      },
    },
  };
}
