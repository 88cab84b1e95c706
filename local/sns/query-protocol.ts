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

/**
 * The form's pairs, first occurrence of a name wins (the SDK never repeats a name).
 * `+` is a space and `%XX` a UTF-8 byte, as in any form body; malformed escapes are
 * kept as text and invalid UTF-8 becomes U+FFFD (WHATWG form decoding).
 */
export function formParams(body: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(body)) {
    if (!params.has(key)) params.set(key, value);
  }
  return params;
}

const BATCH_ENTRIES = 'PublishBatchRequestEntries';

/** Parses a query-protocol body into a typed `Publish` or `PublishBatch` request. */
export function parseQueryRequest(body: string): ParseResult {
  const params = formParams(body);
  const action = params.get('Action');
  if (action === undefined || action === '') return { ok: false, error: snsErrors.missingAction() };
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
  if (action === 'PublishBatch') {
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
  return { ok: false, error: snsErrors.invalidAction(action) };
}
