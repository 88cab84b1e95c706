/**
 * The JSON notification SNS wraps a message in when it delivers to an SQS queue with raw
 * message delivery off: what the writer Lambda finds in each SQS record's `body` in AWS
 * (see test/fixtures/sqs-sns-record.json, and functions/writer/sns-envelope.ts, which
 * reads it). Pure.
 *
 * Layout as SNS writes it: pretty-printed with two-space indents and `" : "` between
 * key and value, attributes one per line as compact `{"Type":…,"Value":…}`. Standard
 * topics sign the notification (`SignatureVersion`, `Signature`, `SigningCertURL`); FIFO
 * topics do not, and add `SequenceNumber` after `MessageId`. `Subject` and
 * `MessageAttributes` appear only when the publish had them.
 *
 * The signature here is a placeholder: nothing local can sign as SNS, so a subscriber
 * that verifies signatures must not be pointed at the local stack.
 */
import { createHash } from 'node:crypto';
import { type EnvelopeAttribute, parseTopicArn } from './validate.js';

export interface NotificationFields {
  /** SNS's id for the publish (a UUID); the same on every redelivery. */
  readonly messageId: string;
  readonly topicArn: string;
  /** The text subscribers get. */
  readonly message: string;
  readonly subject?: string | undefined;
  /** ISO 8601 with milliseconds, e.g. `2026-11-24T07:00:00.000Z`: when SNS accepted it. */
  readonly timestamp: string;
  readonly attributes?: Readonly<Record<string, EnvelopeAttribute>> | undefined;
  /** FIFO topics only: SNS's sequence number (a 20-digit string). */
  readonly sequenceNumber?: string | undefined;
}

/** The SNS endpoint host of the topic's region, for the URLs in the envelope. */
function snsHost(topicArn: string): string {
  const region = parseTopicArn(topicArn)?.region ?? 'us-east-1';
  return `sns.${region}.amazonaws.com`;
}

/** A stable, UUID-shaped subscription id for the local topic's one SQS subscription. */
export function localSubscriptionArn(topicArn: string): string {
  const hex = createHash('sha256').update(`local-subscription:${topicArn}`).digest('hex');
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  return `${topicArn}:${id}`;
}

/** Placeholder signature: base64, the length of a real one, derived from the content. */
function placeholderSignature(fields: NotificationFields): string {
  const digest = createHash('sha512')
    .update(`${fields.messageId}\n${fields.timestamp}\n${fields.message}`)
    .digest();
  // A real SignatureVersion 1 signature is 256 bytes of RSA output: 344 base64 characters.
  return Buffer.concat([digest, digest, digest, digest]).toString('base64');
}

function line(key: string, value: string): string {
  return `  ${JSON.stringify(key)} : ${value}`;
}

/** The notification JSON, byte for byte in SNS's layout. */
export function buildSnsEnvelope(fields: NotificationFields): string {
  const fifo = fields.sequenceNumber !== undefined;
  const host = snsHost(fields.topicArn);
  const subscriptionArn = localSubscriptionArn(fields.topicArn);
  const unsubscribeUrl = `https://${host}/?Action=Unsubscribe&SubscriptionArn=${subscriptionArn}`;
  const lines = [
    line('Type', '"Notification"'),
    line('MessageId', JSON.stringify(fields.messageId)),
  ];
  if (fifo) lines.push(line('SequenceNumber', JSON.stringify(fields.sequenceNumber)));
  lines.push(line('TopicArn', JSON.stringify(fields.topicArn)));
  if (fields.subject !== undefined) lines.push(line('Subject', JSON.stringify(fields.subject)));
  lines.push(
    line('Message', JSON.stringify(fields.message)),
    line('Timestamp', JSON.stringify(fields.timestamp)),
  );
  if (!fifo) {
    lines.push(
      line('SignatureVersion', '"1"'),
      line('Signature', JSON.stringify(placeholderSignature(fields))),
      line(
        'SigningCertURL',
        JSON.stringify(`https://${host}/SimpleNotificationService-local-stack-unsigned.pem`),
      ),
    );
  }
  lines.push(line('UnsubscribeURL', JSON.stringify(unsubscribeUrl)));
  const attributes = Object.entries(fields.attributes ?? {});
  if (attributes.length > 0) {
    const entries = attributes.map(
      ([name, { Type, Value }]) =>
        `    ${JSON.stringify(name)} : ${JSON.stringify({ Type, Value })}`,
    );
    lines.push(`  "MessageAttributes" : {\n${entries.join(',\n')}\n  }`);
  }
  return `{\n${lines.join(',\n')}\n}`;
}
