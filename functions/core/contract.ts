import { quote } from './quote.js';
/**
 * The publishing contract (DESIGN.md, "Public contract"): which channel names, event
 * names, dedupe ids and payloads are acceptable. The writer and the publisher SDK both
 * validate with these functions, so a message the SDK accepts is one the writer stores.
 */

/** `channel` attribute: 1–128 characters, starting with a letter or digit. */
export const CHANNEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/;

/** `event` attribute: 1–64 characters, starting with a letter or digit. */
export const EVENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** The event name used when a message carries no `event` attribute. */
export const DEFAULT_EVENT_NAME = 'message';

/**
 * Names the EventSource API or this product give a meaning of their own: `open` and
 * `error` are EventSource's own events, `stream.*` are the stream's notices.
 */
const RESERVED_EVENT_NAMES = new Set(['open', 'error']);
const RESERVED_EVENT_PREFIX = 'stream.';

/** A dedupe id is a key, not content: keep it short enough to sit in a DynamoDB key. */
export const MAX_DEDUPE_ID_BYTES = 256;

/**
 * SNS refuses messages over 256 KiB (message and attributes together), so no larger
 * payload can arrive through SNS; the same bound keeps an event item far below
 * DynamoDB's 400 KB item limit.
 */
export const MAX_PAYLOAD_BYTES = 262_144;

/** Why a message was refused: a stable code for metrics, and a sentence for people. */
export type ViolationCode =
  | 'INVALID_CHANNEL'
  | 'MISSING_CHANNEL'
  | 'INVALID_EVENT_NAME'
  | 'RESERVED_EVENT_NAME'
  | 'INVALID_DEDUPE_ID'
  | 'INVALID_PAYLOAD'
  | 'PAYLOAD_TOO_LARGE';

export interface Violation {
  readonly code: ViolationCode;
  /** The attribute or field that was wrong: `channel`, `event`, `dedupeId` or `data`. */
  readonly field: 'channel' | 'event' | 'dedupeId' | 'data';
  readonly message: string;
}

/** A message as published, before validation: attributes may be missing or of any text. */
export interface UncheckedMessage {
  readonly channel?: string | undefined;
  readonly event?: string | undefined;
  readonly dedupeId?: string | undefined;
  readonly data: string;
}

/** A message that satisfies the contract, with the default event name filled in. */
export interface ValidMessage {
  readonly channel: string;
  readonly event: string;
  readonly dedupeId: string | undefined;
  readonly data: string;
}

export type ValidationResult =
  | { readonly ok: true; readonly message: ValidMessage }
  | { readonly ok: false; readonly violation: Violation };

const encoder = new TextEncoder();

export function checkChannel(channel: string | undefined): Violation | undefined {
  if (channel === undefined || channel === '') {
    return { code: 'MISSING_CHANNEL', field: 'channel', message: 'channel is required' };
  }
  if (!CHANNEL_PATTERN.test(channel)) {
    return {
      code: 'INVALID_CHANNEL',
      field: 'channel',
      message: `channel ${quote(channel)} must match ${CHANNEL_PATTERN.source}`,
    };
  }
  return undefined;
}

export function checkEventName(event: string | undefined): Violation | undefined {
  if (event === undefined) return undefined;
  if (!EVENT_NAME_PATTERN.test(event)) {
    return {
      code: 'INVALID_EVENT_NAME',
      field: 'event',
      message: `event ${quote(event)} must match ${EVENT_NAME_PATTERN.source}`,
    };
  }
  if (RESERVED_EVENT_NAMES.has(event) || event.startsWith(RESERVED_EVENT_PREFIX)) {
    return {
      code: 'RESERVED_EVENT_NAME',
      field: 'event',
      message: `event ${quote(event)} is reserved (open, error and stream.* cannot be published)`,
    };
  }
  return undefined;
}

export function checkDedupeId(dedupeId: string | undefined): Violation | undefined {
  if (dedupeId === undefined) return undefined;
  const bytes = encoder.encode(dedupeId).byteLength;
  // Control characters would make log lines and keys ambiguous; a dedupe id is an opaque
  // token such as a UUID or an order number.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  if (bytes === 0 || bytes > MAX_DEDUPE_ID_BYTES || /[\u0000-\u001f\u007f]/.test(dedupeId)) {
    return {
      code: 'INVALID_DEDUPE_ID',
      field: 'dedupeId',
      message: `dedupeId must be 1–${MAX_DEDUPE_ID_BYTES} bytes of text without control characters`,
    };
  }
  if (!dedupeId.isWellFormed()) {
    return {
      code: 'INVALID_DEDUPE_ID',
      field: 'dedupeId',
      message: 'dedupeId is not well-formed Unicode (lone surrogate)',
    };
  }
  return undefined;
}

export function checkPayload(
  data: string,
  maxBytes: number = MAX_PAYLOAD_BYTES,
): Violation | undefined {
  if (!data.isWellFormed()) {
    return {
      code: 'INVALID_PAYLOAD',
      field: 'data',
      message: 'data is not well-formed Unicode (lone surrogate); payloads are UTF-8 text',
    };
  }
  const bytes = encoder.encode(data).byteLength;
  if (bytes > maxBytes) {
    return {
      code: 'PAYLOAD_TOO_LARGE',
      field: 'data',
      message: `data is ${bytes} bytes; the limit is ${maxBytes} bytes`,
    };
  }
  return undefined;
}

/** Checks every rule of the publishing contract; the first violation found is returned. */
export function validateMessage(
  message: UncheckedMessage,
  maxPayloadBytes: number = MAX_PAYLOAD_BYTES,
): ValidationResult {
  const violation =
    checkChannel(message.channel) ??
    checkEventName(message.event) ??
    checkDedupeId(message.dedupeId) ??
    checkPayload(message.data, maxPayloadBytes);
  if (violation !== undefined) return { ok: false, violation };
  return {
    ok: true,
    message: {
      // checkChannel has refused undefined above.
      channel: message.channel as string,
      event: message.event ?? DEFAULT_EVENT_NAME,
      dedupeId: message.dedupeId,
      data: message.data,
    },
  };
}
