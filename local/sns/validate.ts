/**
 * SNS's own rules for `Publish` and `PublishBatch`, with SNS's error codes and wording:
 * what real SNS refuses, the local endpoint refuses the same way. Pure.
 *
 * These are NOT the product's contract. A message SNS accepts (say, one without a
 * `channel` attribute) is accepted here too; the writer then rejects it to the
 * dead-letter path, exactly as it would in AWS.
 */
import type {
  MessageAttributeInput,
  MessageInput,
  PublishBatchRequest,
  PublishRequest,
} from './query-protocol.js';
import { type SnsError, snsErrors } from './sns-error.js';

/** The only `Version` of SNS's query API. */
export const SNS_API_VERSION = '2010-03-31';

/** SNS's size limit: message plus every attribute's name, type and value, in bytes. */
export const MAX_MESSAGE_BYTES = 262_144;
/** Entries per `PublishBatch` request. */
export const MAX_BATCH_ENTRIES = 10;
/** Message attributes per message (per `Publish`, and per `PublishBatch` entry). */
export const MAX_MESSAGE_ATTRIBUTES = 10;

/** An attribute as SNS writes it into the notification envelope. */
export interface EnvelopeAttribute {
  readonly Type: string;
  /** The string value, or the base64 of a binary one. */
  readonly Value: string;
}

/** A message SNS accepted, ready to store and deliver. */
export interface AcceptedMessage {
  /** What SQS subscribers receive (for `MessageStructure=json`, the `sqs` or `default` text). */
  readonly message: string;
  readonly subject: string | undefined;
  readonly attributes: Readonly<Record<string, EnvelopeAttribute>>;
  readonly messageGroupId: string | undefined;
  readonly messageDeduplicationId: string | undefined;
  /** Bytes counted against {@link MAX_MESSAGE_BYTES}. */
  readonly size: number;
}

export interface TopicConfig {
  /** The one topic that exists locally. A name ending in `.fifo` makes it a FIFO topic. */
  readonly topicArn: string;
  /** FIFO topics: derive a missing `MessageDeduplicationId` from the message. @default false */
  readonly contentBasedDeduplication?: boolean | undefined;
}

export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: SnsError };

export type BatchEntryOutcome =
  | { readonly id: string; readonly ok: true; readonly message: AcceptedMessage }
  | { readonly id: string; readonly ok: false; readonly error: SnsError };

export interface TopicArnParts {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly name: string;
  readonly fifo: boolean;
}

const TOPIC_ARN = /^arn:(aws[a-z-]*):sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256}(\.fifo)?)$/;

/** The parts of an SNS topic ARN, or `undefined` when the text is not one. */
export function parseTopicArn(arn: string): TopicArnParts | undefined {
  const match = TOPIC_ARN.exec(arn);
  if (match === null) return undefined;
  const [, partition = '', region = '', account = '', name = '', fifo] = match;
  return { partition, region, account, name, fifo: fifo !== undefined };
}

const encoder = new TextEncoder();
const bytes = (text: string): number => encoder.encode(text).byteLength;

const fail = <T>(error: SnsError): Checked<T> => ({ ok: false, error });

/** SNS: letters, digits, `_ - .`; no leading, trailing or doubled `.`; under 256 bytes. */
const ATTRIBUTE_NAME = /^[A-Za-z0-9_-](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?$/;
/** `String`, `Number`, `Binary`, optionally with a custom label (`String.Array`, `Number.int`). */
const ATTRIBUTE_TYPE = /^(String|Number|Binary)(\..+)?$/s;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Batch entry ids: 1–80 letters, digits, `-` and `_`. */
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
/** FIFO group and deduplication ids: 1–128 printable ASCII characters. */
const FIFO_ID = /^[\x21-\x7e]{1,128}$/;
/** Subjects: 1–100 printable ASCII characters, no line breaks. */
const SUBJECT = /^[\x20-\x7e]{1,100}$/;
/** What a `Number` attribute may hold: a decimal, optionally signed, optionally with exponent. */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** AWS keeps these prefixes, in any casing, for its own attributes. */
const RESERVED_NAME = /^(?:aws|amazon)\./i;
/**
 * The reserved names SNS itself defines and accepts on `Publish` (SMS and mobile push
 * settings such as `AWS.SNS.SMS.SMSType`), so a backend that sets them is not refused
 * locally when AWS would take the message.
 */
const SNS_OWN_NAME = /^AWS\.(?:SNS\.|MM\.SMS\.)/;

function checkReservedName(name: string): SnsError | undefined {
  if (!RESERVED_NAME.test(name) || SNS_OWN_NAME.test(name)) return undefined;
  // SNS's exact wording for this refusal is not known; this follows its other name errors.
  return snsErrors.parameterValueInvalid(
    `Invalid message attribute name '${name}' was found. ` +
      "Message attribute names can not start with the reserved prefixes 'AWS.' or 'Amazon.'.",
  );
}

/** `String.Array`: a JSON array whose items are strings, numbers, booleans or null. */
function isAttributeArray(text: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  return (
    Array.isArray(parsed) &&
    parsed.every(
      (item: unknown) => item === null || ['string', 'number', 'boolean'].includes(typeof item),
    )
  );
}

function checkAttributeValue(name: string, dataType: string, value: string): SnsError | undefined {
  if (dataType.startsWith('Number') && !NUMBER.test(value)) {
    return snsErrors.parameterValueInvalid(
      `Could not cast message attribute '${name}' value to number.`,
    );
  }
  if (dataType === 'String.Array' && !isAttributeArray(value)) {
    // SNS's exact wording for this refusal is not known; this follows its other value errors.
    return snsErrors.parameterValueInvalid(
      `The message attribute '${name}' with type 'String.Array' must be a JSON array ` +
        'of strings, numbers, booleans or null.',
    );
  }
  return undefined;
}

function checkAttributeName(name: string): SnsError | undefined {
  if (bytes(name) >= 256) {
    return snsErrors.parameterValueInvalid(
      'Length of message attribute name must be less than 256 bytes.',
    );
  }
  if (ATTRIBUTE_NAME.test(name) && !name.includes('..')) return undefined;
  if (name.startsWith('.')) {
    return snsErrors.parameterValueInvalid(
      "Invalid message attribute name starting with character '.' was found.",
    );
  }
  if (name.endsWith('.')) {
    return snsErrors.parameterValueInvalid(
      "Invalid message attribute name ending with character '.' was found.",
    );
  }
  const bad = [...name].find((c) => !/[A-Za-z0-9_.-]/.test(c));
  if (bad !== undefined) {
    const hex = `#x${(bad.codePointAt(0) ?? 0).toString(16).toUpperCase()}`;
    return snsErrors.parameterValueInvalid(
      `Invalid non-alphanumeric character '${hex}' was found in the message attribute name. ` +
        'Can only include alphanumeric characters, hyphens, underscores, or dots.',
    );
  }
  return snsErrors.parameterValueInvalid(
    "Message attribute name can not have successive '.' character.",
  );
}

/**
 * Checks message attributes as SNS does and returns them in envelope form with the
 * bytes they count toward the size limit. `path` names the map in validation errors.
 */
export function checkAttributes(
  inputs: readonly MessageAttributeInput[],
  path: string,
): Checked<{ attributes: Record<string, EnvelopeAttribute>; size: number }> {
  if (inputs.length > MAX_MESSAGE_ATTRIBUTES) {
    return fail(
      snsErrors.parameterValueInvalid(
        `Number of message attributes [${inputs.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`,
      ),
    );
  }
  const attributes: Record<string, EnvelopeAttribute> = {};
  let size = 0;
  for (const [index, input] of inputs.entries()) {
    const { name, dataType } = input;
    if (name === undefined) return fail(snsErrors.validation(`${path}.${index + 1}.member.key`));
    const badName = checkAttributeName(name) ?? checkReservedName(name);
    if (badName !== undefined) return fail(badName);
    if (Object.hasOwn(attributes, name)) {
      return fail(
        snsErrors.parameterValueInvalid(`Message attribute name '${name}' has multiple values.`),
      );
    }
    if (dataType === undefined) {
      return fail(snsErrors.validation(`${path}.${name}.member.dataType`));
    }
    if (!ATTRIBUTE_TYPE.test(dataType)) {
      return fail(
        snsErrors.parameterValueInvalid(
          `The message attribute '${name}' has an invalid message attribute type, ` +
            'the set of supported type prefixes is Binary, Number, and String.',
        ),
      );
    }
    const binary = dataType.startsWith('Binary');
    const field = binary ? input.binaryValue : input.stringValue;
    const other = binary ? input.stringValue : input.binaryValue;
    if (field === undefined && other !== undefined) {
      return fail(
        snsErrors.parameterValueInvalid(
          `The message attribute '${name}' with type '${dataType}' must use field '${binary ? 'Binary' : 'String'}'.`,
        ),
      );
    }
    if (field === undefined || field === '') {
      return fail(
        snsErrors.parameterValueInvalid(
          `The message attribute '${name}' must contain non-empty message attribute value ` +
            `for message attribute type '${dataType}'.`,
        ),
      );
    }
    let value = field;
    let valueBytes = bytes(field);
    if (binary) {
      if (!BASE64.test(field)) {
        return fail(
          snsErrors.parameterValueInvalid(
            `The message attribute '${name}' has a BinaryValue that is not valid base64.`,
          ),
        );
      }
      const decoded = Buffer.from(field, 'base64');
      value = decoded.toString('base64');
      valueBytes = decoded.byteLength;
    } else {
      const badValue = checkAttributeValue(name, dataType, field);
      if (badValue !== undefined) return fail(badValue);
    }
    size += bytes(name) + bytes(dataType) + valueBytes;
    attributes[name] = { Type: dataType, Value: value };
  }
  return { ok: true, value: { attributes, size } };
}

function checkVersion(version: string | undefined, action: string): SnsError | undefined {
  if (version === undefined || version === SNS_API_VERSION) return undefined;
  return {
    ...snsErrors.invalidAction(action),
    message: `Could not find operation ${action} for version ${version}`,
  };
}

function checkTopic(arn: string, topic: TopicConfig): SnsError | undefined {
  if (parseTopicArn(arn) === undefined) return snsErrors.invalidParameter('TopicArn');
  return arn === topic.topicArn ? undefined : snsErrors.notFound();
}

/**
 * The per-message checks that, in a batch, fail only their own entry: empty message,
 * subject, message structure and the FIFO fields. Returns the text subscribers get.
 */
function checkMessageFields(
  input: MessageInput & { message: string },
  topic: TopicConfig,
): Checked<string> {
  if (input.message === '') return fail(snsErrors.invalidParameter('Empty message'));
  if (input.subject !== undefined && !SUBJECT.test(input.subject)) {
    return fail(snsErrors.invalidParameter('Subject'));
  }
  let delivered = input.message;
  if (input.messageStructure !== undefined) {
    if (input.messageStructure !== 'json') {
      return fail(snsErrors.invalidParameter('MessageStructure'));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(input.message);
    } catch {
      return fail(
        snsErrors.invalidParameter('Message Structure - JSON message body failed to parse'),
      );
    }
    const object =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : {};
    if (typeof object.default !== 'string') {
      return fail(
        snsErrors.invalidParameter('Message Structure - No default entry in JSON message body'),
      );
    }
    delivered = typeof object.sqs === 'string' ? object.sqs : object.default;
  }

  const fifo = parseTopicArn(topic.topicArn)?.fifo ?? false;
  const { messageGroupId: group, messageDeduplicationId: dedupe } = input;
  if (fifo) {
    if (group === undefined || group === '') {
      return fail(
        snsErrors.invalidParameter('The MessageGroupId parameter is required for FIFO topics'),
      );
    }
    if (!FIFO_ID.test(group)) {
      return fail(
        snsErrors.invalidParameter(
          'MessageGroupId Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.',
        ),
      );
    }
    if (dedupe === undefined && !topic.contentBasedDeduplication) {
      return fail(
        snsErrors.invalidParameter(
          'The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
        ),
      );
    }
    if (dedupe !== undefined && !FIFO_ID.test(dedupe)) {
      return fail(
        snsErrors.invalidParameter(
          'MessageDeduplicationId Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.',
        ),
      );
    }
  } else if (dedupe !== undefined) {
    return fail(
      snsErrors.invalidParameter(
        'MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type',
      ),
    );
  }
  // A MessageGroupId on a standard topic is accepted (SNS passes it on to SQS fair queues).
  return { ok: true, value: delivered };
}

/** SNS's checks for `Publish`, in the order SNS reports them. */
export function validatePublish(
  request: PublishRequest,
  topic: TopicConfig,
): Checked<AcceptedMessage> {
  const badVersion = checkVersion(request.version, 'Publish');
  if (badVersion !== undefined) return fail(badVersion);
  const targets = [request.topicArn, request.targetArn, request.phoneNumber];
  if (targets.filter((target) => target !== undefined).length > 1) {
    // SNS's exact wording for this refusal is not known; this follows its `Reason:` style.
    return fail(
      snsErrors.invalidParameter(
        'TopicArn or TargetArn Reason: Only one of TopicArn, TargetArn or PhoneNumber may be given',
      ),
    );
  }
  if (request.phoneNumber !== undefined) {
    return fail(
      snsErrors.invalidParameter(
        'PhoneNumber Reason: the local SNS endpoint publishes only to its topic',
      ),
    );
  }
  const arn = request.topicArn ?? request.targetArn;
  if (arn === undefined || arn === '') {
    return fail(
      snsErrors.invalidParameter('TopicArn or TargetArn Reason: no value for required parameter'),
    );
  }
  const { message } = request;
  if (message === undefined) return fail(snsErrors.validation('message'));
  const attributes = checkAttributes(request.messageAttributes, 'messageAttributes');
  if (!attributes.ok) return attributes;
  const size = bytes(message) + attributes.value.size;
  if (size > MAX_MESSAGE_BYTES) return fail(snsErrors.invalidParameter('Message too long'));
  const fields = checkMessageFields({ ...request, message }, topic);
  if (!fields.ok) return fields;
  const badTopic = checkTopic(arn, topic);
  if (badTopic !== undefined) return fail(badTopic);
  return {
    ok: true,
    value: {
      message: fields.value,
      subject: request.subject,
      attributes: attributes.value.attributes,
      messageGroupId: request.messageGroupId,
      messageDeduplicationId: request.messageDeduplicationId,
      size,
    },
  };
}

/**
 * SNS's checks for `PublishBatch`. Request-level problems (topic, entry count, ids,
 * attributes, total size) fail the whole request; per-message problems (empty message,
 * subject, FIFO fields) fail only their entry, which SNS reports under `Failed`.
 */
export function validatePublishBatch(
  request: PublishBatchRequest,
  topic: TopicConfig,
): Checked<BatchEntryOutcome[]> {
  const badVersion = checkVersion(request.version, 'PublishBatch');
  if (badVersion !== undefined) return fail(badVersion);
  const { topicArn, entries } = request;
  if (topicArn === undefined) return fail(snsErrors.validation('topicArn'));
  if (entries === undefined) return fail(snsErrors.validation('publishBatchRequestEntries'));
  if (entries.length === 0) return fail(snsErrors.emptyBatch());
  if (entries.length > MAX_BATCH_ENTRIES) return fail(snsErrors.tooManyEntries());
  const badTopic = checkTopic(topicArn, topic);
  if (badTopic !== undefined) return fail(badTopic);

  const ids = new Set<string>();
  for (const [index, entry] of entries.entries()) {
    if (entry.id === undefined) {
      return fail(snsErrors.validation(`publishBatchRequestEntries.${index + 1}.member.id`));
    }
    ids.add(entry.id);
  }
  if (ids.size !== entries.length) return fail(snsErrors.batchIdsNotDistinct());
  for (const id of ids) {
    if (id.length > 80) return fail(snsErrors.invalidBatchEntryId(`is too long: ${id}`));
    if (!BATCH_ENTRY_ID.test(id)) {
      return fail(snsErrors.invalidBatchEntryId(`contains an impermissible character: ${id}`));
    }
  }

  let total = 0;
  const checked: {
    id: string;
    message: string;
    entry: MessageInput;
    attributes: Record<string, EnvelopeAttribute>;
    size: number;
  }[] = [];
  for (const [index, entry] of entries.entries()) {
    const path = `publishBatchRequestEntries.${index + 1}.member`;
    if (entry.message === undefined) return fail(snsErrors.validation(`${path}.message`));
    const attributes = checkAttributes(entry.messageAttributes, `${path}.messageAttributes`);
    if (!attributes.ok) return attributes;
    const size = bytes(entry.message) + attributes.value.size;
    total += size;
    checked.push({
      id: entry.id ?? '',
      message: entry.message,
      entry,
      attributes: attributes.value.attributes,
      size,
    });
  }
  if (total > MAX_MESSAGE_BYTES) return fail(snsErrors.batchTooLong());

  return {
    ok: true,
    value: checked.map(({ id, message, entry, attributes, size }): BatchEntryOutcome => {
      const fields = checkMessageFields({ ...entry, message }, topic);
      if (!fields.ok) return { id, ok: false, error: fields.error };
      return {
        id,
        ok: true,
        message: {
          message: fields.value,
          subject: entry.subject,
          attributes,
          messageGroupId: entry.messageGroupId,
          messageDeduplicationId: entry.messageDeduplicationId,
          size,
        },
      };
    }),
  };
}
