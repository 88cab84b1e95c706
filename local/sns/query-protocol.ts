/**
 * Reads an SNS request in the AWS query protocol: an `application/x-www-form-urlencoded`
 * body of flat `Name=value` pairs. Pure; no validation beyond the protocol's own
 * structure (`validate.ts` applies SNS's rules).
 *
 * What `@aws-sdk/client-sns` sends (recorded from the real client, see
 * test/unit/local/sns/query-protocol.test.ts): `Action` and `Version=2010-03-31` first, then the
 * input's members in model order; a map as `MessageAttributes.entry.N.Name` /
 * `.Value.DataType` / `.Value.StringValue` / `.Value.BinaryValue` (base64) with N from 1;
 * a list as `PublishBatchRequestEntries.member.N.<field>` with N from 1, and an empty
 * list as `PublishBatchRequestEntries=` (empty value). Spaces are `%20`, `+` is `%2B`.
 */
import { type SnsError, snsErrors } from './sns-error.js';

/** One `MessageAttributes.entry.N`, as sent: any member may be missing. */
export interface MessageAttributeInput {
  readonly name: string | undefined;
  readonly dataType: string | undefined;
  readonly stringValue: string | undefined;
  /** Base64 text, as the protocol carries blobs. */
  readonly binaryValue: string | undefined;
}

/** The message fields `Publish` and a `PublishBatch` entry share. */
export interface MessageInput {
  readonly message: string | undefined;
  readonly subject: string | undefined;
  readonly messageStructure: string | undefined;
  readonly messageGroupId: string | undefined;
  readonly messageDeduplicationId: string | undefined;
  /** In entry-number order. */
  readonly messageAttributes: readonly MessageAttributeInput[];
}

export interface PublishRequest extends MessageInput {
  readonly action: 'Publish';
  readonly version: string | undefined;
  readonly topicArn: string | undefined;
  readonly targetArn: string | undefined;
  readonly phoneNumber: string | undefined;
}

export interface PublishBatchEntryInput extends MessageInput {
  readonly id: string | undefined;
}

export interface PublishBatchRequest {
  readonly action: 'PublishBatch';
  readonly version: string | undefined;
  readonly topicArn: string | undefined;
  /** `undefined` when the request has no `PublishBatchRequestEntries` at all. */
  readonly entries: readonly PublishBatchEntryInput[] | undefined;
}

export type SnsRequest = PublishRequest | PublishBatchRequest;

export type ParseResult =
  | { readonly ok: true; readonly request: SnsRequest }
  | { readonly ok: false; readonly error: SnsError };

/** `1`, `2`, … (no sign, no leading zero): the indexes the protocol numbers lists with. */
const INDEX = /^[1-9]\d{0,5}$/;

/**
 * Groups `<prefix>.<N>.<rest>` parameters by N, in numeric order, each group a map of
 * `<rest>` → value. Keys that do not have this form are not part of the list.
 */
function indexed(params: ReadonlyMap<string, string>, prefix: string): Map<string, string>[] {
  const groups = new Map<number, Map<string, string>>();
  for (const [key, value] of params) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    const dot = rest.indexOf('.');
    if (dot <= 0) continue;
    const index = rest.slice(0, dot);
    if (!INDEX.test(index)) continue;
    const n = Number(index);
    const group = groups.get(n) ?? new Map<string, string>();
    group.set(rest.slice(dot + 1), value);
    groups.set(n, group);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([, group]) => group);
}

function attributesOf(
  params: ReadonlyMap<string, string>,
  prefix: string,
): MessageAttributeInput[] {
  return indexed(params, `${prefix}MessageAttributes.entry.`).map((entry) => ({
    name: entry.get('Name'),
    dataType: entry.get('Value.DataType'),
    stringValue: entry.get('Value.StringValue'),
    binaryValue: entry.get('Value.BinaryValue'),
  }));
}

function messageInputOf(params: ReadonlyMap<string, string>, prefix: string): MessageInput {
  return {
    message: params.get(`${prefix}Message`),
    subject: params.get(`${prefix}Subject`),
    messageStructure: params.get(`${prefix}MessageStructure`),
    messageGroupId: params.get(`${prefix}MessageGroupId`),
    messageDeduplicationId: params.get(`${prefix}MessageDeduplicationId`),
    messageAttributes: attributesOf(params, prefix),
  };
}

/** A form body's pairs, and which of them do not decode to UTF-8 text. */
export interface FormParams {
  /** First occurrence of a name wins (the SDK never repeats a name). */
  readonly params: Map<string, string>;
  /** Names (decoded leniently) whose name or value bytes are not UTF-8. */
  readonly notUtf8: readonly string[];
}

const AMPERSAND = 0x26;
const EQUALS = 0x3d;
const PLUS = 0x2b;
const PERCENT = 0x25;
const SPACE = 0x20;

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder('utf-8', { ignoreBOM: true });

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** The bytes of one form component: `+` is a space, `%XX` a byte, anything else itself. */
function formBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.byteLength);
  let length = 0;
  for (let i = 0; i < bytes.byteLength; i++) {
    const byte = bytes[i] ?? 0;
    const high = byte === PERCENT ? hexValue(bytes[i + 1]) : -1;
    const low = high >= 0 ? hexValue(bytes[i + 2]) : -1;
    if (low >= 0) {
      out[length++] = high * 16 + low;
      i += 2;
    } else out[length++] = byte === PLUS ? SPACE : byte;
  }
  return out.subarray(0, length);
}

function decode(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Splits a form body as WHATWG form decoding does (malformed escapes are kept as text),
 * but decodes each name and value strictly: WHATWG decoding would turn invalid UTF-8,
 * raw or percent-escaped, into U+FFFD and so publish text the sender never wrote, where
 * SNS refuses the request.
 */
export function formParams(body: string | Uint8Array): FormParams {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const params = new Map<string, string>();
  const notUtf8: string[] = [];
  const seen = new Set<string>();
  let start = 0;
  while (start <= bytes.byteLength) {
    let end = bytes.indexOf(AMPERSAND, start);
    if (end < 0) end = bytes.byteLength;
    const pair = bytes.subarray(start, end);
    start = end + 1;
    if (pair.byteLength === 0) continue;
    const equals = pair.indexOf(EQUALS);
    const rawName = formBytes(equals < 0 ? pair : pair.subarray(0, equals));
    const rawValue = formBytes(equals < 0 ? new Uint8Array(0) : pair.subarray(equals + 1));
    const strictName = decode(rawName);
    const name = strictName ?? lenient.decode(rawName);
    if (seen.has(name)) continue;
    seen.add(name);
    const value = decode(rawValue);
    if (strictName === undefined || value === undefined) notUtf8.push(name);
    else params.set(name, value);
  }
  return { params, notUtf8 };
}

const BATCH_ENTRIES = 'PublishBatchRequestEntries';

/**
 * Parses a query-protocol body (the raw bytes, or text) into a typed `Publish` or
 * `PublishBatch` request.
 */
export function parseQueryRequest(body: string | Uint8Array): ParseResult {
  const { params, notUtf8 } = formParams(body);
  const action = params.get('Action');
  if (action === undefined || action === '') return { ok: false, error: snsErrors.missingAction() };
  if (action !== 'Publish' && action !== 'PublishBatch') {
    return { ok: false, error: snsErrors.invalidAction(action) };
  }
  const [badName] = notUtf8;
  if (badName !== undefined) return { ok: false, error: snsErrors.notUtf8(badName) };
  const version = params.get('Version');
  if (action === 'Publish') {
    return {
      ok: true,
      request: {
        action,
        version,
        topicArn: params.get('TopicArn'),
        targetArn: params.get('TargetArn'),
        phoneNumber: params.get('PhoneNumber'),
        ...messageInputOf(params, ''),
      },
    };
  }
  const members = indexed(params, `${BATCH_ENTRIES}.member.`);
  const present = params.has(BATCH_ENTRIES) || members.length > 0;
  const entries = members.map((member) => {
    const memberParams = new Map(member);
    return { id: memberParams.get('Id'), ...messageInputOf(memberParams, '') };
  });
  return {
    ok: true,
    request: {
      action,
      version,
      topicArn: params.get('TopicArn'),
      entries: present ? entries : undefined,
    },
  };
}
