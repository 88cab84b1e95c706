/**
 * The XML documents SNS answers with (AWS query protocol), as the AWS SDK v3 parses them.
 * Pure: strings in, strings out.
 */
import type { SnsError } from './sns-error.js';

export const SNS_XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';

/**
 * Text made safe for XML 1.0 element content and attribute values:
 * - `& < > " '` become entities;
 * - CR becomes `&#xD;` (a parser would otherwise turn it, and CRLF, into LF);
 * - characters XML 1.0 cannot carry at all (C0 controls other than tab, LF and CR,
 *   U+FFFE, U+FFFF, lone surrogates) become U+FFFD.
 */
export function escapeXml(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
  const unrepresentable = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
  return text
    .toWellFormed()
    .replace(unrepresentable, '\uFFFD')
    .replace(/[&<>"'\r]/g, (c) => ENTITIES[c] ?? c);
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#xD;',
};

function element(name: string, text: string): string {
  return `<${name}>${escapeXml(text)}</${name}>`;
}

function metadata(requestId: string): string {
  return `<ResponseMetadata>${element('RequestId', requestId)}</ResponseMetadata>`;
}

export interface PublishResultXml {
  readonly messageId: string;
  /** FIFO topics only. */
  readonly sequenceNumber?: string | undefined;
}

/** `Publish`'s answer. */
export function publishResponseXml(result: PublishResultXml, requestId: string): string {
  const sequence =
    result.sequenceNumber === undefined ? '' : element('SequenceNumber', result.sequenceNumber);
  return (
    `<PublishResponse xmlns="${SNS_XMLNS}">` +
    `<PublishResult>${element('MessageId', result.messageId)}${sequence}</PublishResult>` +
    `${metadata(requestId)}</PublishResponse>`
  );
}

export interface BatchSuccessXml extends PublishResultXml {
  readonly id: string;
}

export interface BatchFailureXml {
  readonly id: string;
  readonly code: string;
  readonly message: string;
  readonly senderFault: boolean;
}

/** `PublishBatch`'s answer: one member per entry, in `Successful` or in `Failed`. */
export function publishBatchResponseXml(
  result: {
    readonly successful: readonly BatchSuccessXml[];
    readonly failed: readonly BatchFailureXml[];
  },
  requestId: string,
): string {
  const successful = result.successful
    .map(
      (s) =>
        `<member>${element('Id', s.id)}${element('MessageId', s.messageId)}` +
        `${s.sequenceNumber === undefined ? '' : element('SequenceNumber', s.sequenceNumber)}</member>`,
    )
    .join('');
  const failed = result.failed
    .map(
      (f) =>
        `<member>${element('Id', f.id)}${element('Code', f.code)}${element('Message', f.message)}` +
        `${element('SenderFault', String(f.senderFault))}</member>`,
    )
    .join('');
  return (
    `<PublishBatchResponse xmlns="${SNS_XMLNS}"><PublishBatchResult>` +
    `<Successful>${successful}</Successful><Failed>${failed}</Failed>` +
    `</PublishBatchResult>${metadata(requestId)}</PublishBatchResponse>`
  );
}

/** SNS's error document; send it with `error.status`. */
export function errorResponseXml(error: SnsError, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${SNS_XMLNS}"><Error>${element('Type', error.type)}` +
    `${element('Code', error.code)}${element('Message', error.message)}</Error>` +
    `${element('RequestId', requestId)}</ErrorResponse>`
  );
}
