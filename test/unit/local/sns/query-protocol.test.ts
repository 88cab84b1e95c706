import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ListTopicsCommand,
  type MessageAttributeValue,
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  PublishCommand,
  SNSClient,
  SNSServiceException,
} from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSnsEnvelope } from '../../../../functions/writer/sns-envelope.js';
import { checkAuthorization } from '../../../../local/sns/authorization.js';
import {
  type MessageAttributeInput,
  type PublishBatchRequest,
  type PublishRequest,
  parseQueryRequest,
} from '../../../../local/sns/query-protocol.js';
import { buildSnsEnvelope, type NotificationFields } from '../../../../local/sns/sns-envelope.js';
import { type SnsError, snsErrors } from '../../../../local/sns/sns-error.js';
import {
  checkAttributes,
  MAX_MESSAGE_BYTES,
  type TopicConfig,
  validatePublish,
  validatePublishBatch,
} from '../../../../local/sns/validate.js';
import {
  errorResponseXml,
  escapeXml,
  publishBatchResponseXml,
  publishResponseXml,
} from '../../../../local/sns/xml.js';
import fixture from '../../../fixtures/sqs-sns-record.json' with { type: 'json' };

const TOPIC = 'arn:aws:sns:us-east-1:000000000000:sse-pubsub-local';
const FIFO_TOPIC = 'arn:aws:sns:us-east-1:000000000000:sse-pubsub-local.fifo';

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** The reply; `requestId` goes in the `x-amzn-requestid` header, as the endpoint sends it. */
type Reply = (request: Recorded) => { status: number; body: string; requestId?: string };

/**
 * A node:http server that records what the real SNSClient sends and answers with
 * whatever the current test scripts (by default, a PublishResponse).
 */
let server: Server;
let base: string;
let recorded: Recorded[];
let reply: Reply;

const okReply: Reply = (request) => {
  const parsed = parseQueryRequest(request.body);
  if (parsed.ok && parsed.request.action === 'PublishBatch') {
    const successful = (parsed.request.entries ?? []).map((e) => ({
      id: e.id ?? '',
      messageId: randomUUID(),
    }));
    return { status: 200, body: publishBatchResponseXml({ successful, failed: [] }, 'req-1') };
  }
  return { status: 200, body: publishResponseXml({ messageId: 'mid-1' }, 'req-1') };
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: Recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      recorded.push(request);
      const { status, body, requestId = 'req-1' } = reply(request);
      res
        .writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId })
        .end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  recorded = [];
  reply = okReply;
});

function client(): SNSClient {
  return new SNSClient({
    endpoint: `${base}/sns`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
}

function lastBody(): string {
  const request = recorded.at(-1);
  if (request === undefined) throw new Error('nothing recorded');
  return request.body;
}

/** What the parser should return for an SDK attribute map. */
function expectedAttributes(
  attributes: Record<string, MessageAttributeValue>,
): MessageAttributeInput[] {
  return Object.entries(attributes).map(([name, value]) => ({
    name,
    dataType: value.DataType,
    stringValue: value.StringValue,
    binaryValue:
      value.BinaryValue === undefined
        ? undefined
        : Buffer.from(value.BinaryValue).toString('base64'),
  }));
}

describe('Function: parseQueryRequest (bodies sent by the real @aws-sdk/client-sns)', () => {
  it('sees a Publish as a form POST to /sns/, in the documented field order', async () => {
    await client().send(
      new PublishCommand({
        TopicArn: TOPIC,
        Message: 'hello',
        MessageAttributes: { channel: { DataType: 'String', StringValue: 'orders/42' } },
      }),
    );
    const [request] = recorded;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/sns/');
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=x\//);
    expect(checkAuthorization(request?.headers.authorization)).toBeUndefined();
    expect(request?.body).toBe(
      'Action=Publish&Version=2010-03-31&Message=hello' +
        '&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Asse-pubsub-local' +
        '&MessageAttributes.entry.1.Name=channel' +
        '&MessageAttributes.entry.1.Value.DataType=String' +
        '&MessageAttributes.entry.1.Value.StringValue=orders%2F42',
    );
  });

  it('reads back every field of a Publish exactly as the SDK was given it', async () => {
    const message = 'a + b = c & d\r\n"quoted" <tag> é 😀 %41 \u0001 end ';
    const attributes: Record<string, MessageAttributeValue> = {
      channel: { DataType: 'String', StringValue: 'orders/42 + more' },
      bin: { DataType: 'Binary', BinaryValue: new Uint8Array([0, 1, 2, 250, 255]) },
      list: { DataType: 'String.Array', StringValue: '["a","b"]' },
      n: { DataType: 'Number', StringValue: '-1.5e3' },
    };
    // Ten attributes or more: entry.10 must sort after entry.9, not after entry.1.
    for (let i = 0; i < 8; i += 1)
      attributes[`extra${i}`] = { DataType: 'String', StringValue: `${i}` };
    await client().send(
      new PublishCommand({
        TopicArn: TOPIC,
        Message: message,
        Subject: 'Hi there',
        MessageGroupId: 'g-1',
        MessageDeduplicationId: 'd-1',
        MessageAttributes: attributes,
      }),
    );
    expect(lastBody()).toContain('MessageAttributes.entry.12.Name=extra7');
    expect(lastBody()).toContain('Value.BinaryValue=AAEC%2Bv8%3D');
    const parsed = parseQueryRequest(lastBody());
    expect(parsed).toEqual({
      ok: true,
      request: {
        action: 'Publish',
        version: '2010-03-31',
        topicArn: TOPIC,
        targetArn: undefined,
        phoneNumber: undefined,
        message,
        subject: 'Hi there',
        messageStructure: undefined,
        messageGroupId: 'g-1',
        messageDeduplicationId: 'd-1',
        messageAttributes: expectedAttributes(attributes),
      } satisfies PublishRequest,
    });
  });

  it('reads back a PublishBatch of ten entries in entry order', async () => {
    const entries: PublishBatchRequestEntry[] = Array.from({ length: 10 }, (_, i) => ({
      Id: `e-${i}`,
      Message: `message ${i}`,
      MessageAttributes: {
        channel: { DataType: 'String', StringValue: `c${i % 3}` },
        ...(i % 2 === 0 && { event: { DataType: 'String', StringValue: 'even' } }),
      },
      ...(i === 9 && { MessageGroupId: 'g', MessageDeduplicationId: 'd', Subject: 's' }),
    }));
    const response = await client().send(
      new PublishBatchCommand({ TopicArn: TOPIC, PublishBatchRequestEntries: entries }),
    );
    expect(response.Successful?.map((s) => s.Id)).toEqual(entries.map((e) => e.Id));
    expect(lastBody()).toContain(
      'PublishBatchRequestEntries.member.10.MessageAttributes.entry.1.Value.StringValue=c0',
    );
    const parsed = parseQueryRequest(lastBody());
    expect(parsed).toEqual({
      ok: true,
      request: {
        action: 'PublishBatch',
        version: '2010-03-31',
        topicArn: TOPIC,
        entries: entries.map((e) => ({
          id: e.Id,
          message: e.Message,
          subject: e.Subject,
          messageStructure: undefined,
          messageGroupId: e.MessageGroupId,
          messageDeduplicationId: e.MessageDeduplicationId,
          messageAttributes: expectedAttributes(e.MessageAttributes ?? {}),
        })),
      } satisfies PublishBatchRequest,
    });
  });

  it('tells an empty entry list (sent as "PublishBatchRequestEntries=") from a missing one', async () => {
    await client().send(
      new PublishBatchCommand({ TopicArn: TOPIC, PublishBatchRequestEntries: [] }),
    );
    expect(lastBody()).toBe(
      'Action=PublishBatch&Version=2010-03-31' +
        '&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Asse-pubsub-local' +
        '&PublishBatchRequestEntries=',
    );
    expect(parseQueryRequest(lastBody())).toMatchObject({ ok: true, request: { entries: [] } });
    expect(parseQueryRequest('Action=PublishBatch&TopicArn=x')).toMatchObject({
      ok: true,
      request: { entries: undefined },
    });
  });

  it('decodes + as a space and keeps malformed escapes as text', () => {
    const parsed = parseQueryRequest('Action=Publish&Message=a+b%2Bc%zz&TopicArn=t');
    expect(parsed.ok && parsed.request.action === 'Publish' && parsed.request.message).toBe(
      'a b+c%zz',
    );
  });

  it('decodes percent-escaped and raw UTF-8 as text', () => {
    const escaped = parseQueryRequest('Action=Publish&TopicArn=t&Message=%E2%82%AC%F0%9F%98%80');
    expect(escaped.ok && escaped.request.action === 'Publish' && escaped.request.message).toBe(
      '€😀',
    );
    const raw = parseQueryRequest(
      Buffer.concat([Buffer.from('Action=Publish&TopicArn=t&Message='), Buffer.from('€', 'utf8')]),
    );
    expect(raw.ok && raw.request.action === 'Publish' && raw.request.message).toBe('€');
  });

  it.each([
    ['a byte that never starts a character', 'Message=a%FFb'],
    ['a truncated sequence', 'Message=%E2%82'],
    ['an encoded surrogate', 'Message=%ED%A0%80'],
    ['an overlong encoding', 'Message=%C0%AF'],
  ])('refuses invalid UTF-8 instead of publishing U+FFFD: %s', (_, field) => {
    expect(parseQueryRequest(`Action=Publish&TopicArn=t&${field}`)).toEqual({
      ok: false,
      error: {
        status: 400,
        type: 'Sender',
        code: 'InvalidParameter',
        message: 'Invalid parameter: Message Reason: the value is not valid UTF-8',
      },
    });
  });

  it('refuses invalid UTF-8 sent as raw bytes, and in a batch entry or attribute', () => {
    const raw = Buffer.concat([
      Buffer.from('Action=Publish&TopicArn=t&Message='),
      Buffer.from([0x61, 0xff, 0x62]),
    ]);
    expect(parseQueryRequest(raw)).toMatchObject({
      ok: false,
      error: { code: 'InvalidParameter', message: expect.stringContaining('Message Reason:') },
    });
    const entry = 'PublishBatchRequestEntries.member.2';
    expect(
      parseQueryRequest(
        `Action=PublishBatch&TopicArn=t&${entry.replace('2', '1')}.Id=a&${entry.replace('2', '1')}.Message=ok` +
          `&${entry}.Id=b&${entry}.Message=%FE`,
      ),
    ).toMatchObject({
      ok: false,
      error: {
        code: 'InvalidParameter',
        message: `Invalid parameter: ${entry}.Message Reason: the value is not valid UTF-8`,
      },
    });
    expect(
      parseQueryRequest(
        'Action=Publish&TopicArn=t&Message=m&MessageAttributes.entry.1.Name=channel' +
          '&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=%80',
      ),
    ).toMatchObject({
      ok: false,
      error: {
        message:
          'Invalid parameter: MessageAttributes.entry.1.Value.StringValue Reason: the value is not valid UTF-8',
      },
    });
  });

  it('refuses a missing Action and an unknown one', () => {
    expect(parseQueryRequest('')).toMatchObject({ ok: false, error: { code: 'MissingAction' } });
    expect(parseQueryRequest('Message=x')).toMatchObject({
      ok: false,
      error: { code: 'MissingAction', status: 400 },
    });
    expect(parseQueryRequest('Action=CreateTopic&Name=x')).toMatchObject({
      ok: false,
      error: { code: 'InvalidAction', status: 400, type: 'Sender' },
    });
  });
});

describe('Function: publishResponseXml / publishBatchResponseXml (parsed by the real SDK)', () => {
  it('gives the SDK the MessageId and, for FIFO, the SequenceNumber', async () => {
    reply = () => ({
      status: 200,
      body: publishResponseXml({ messageId: 'm-<&>', sequenceNumber: '10000000000000000001' }, 'r'),
      requestId: 'r',
    });
    const response = await client().send(new PublishCommand({ TopicArn: TOPIC, Message: 'x' }));
    expect(response.MessageId).toBe('m-<&>');
    expect(response.SequenceNumber).toBe('10000000000000000001');
    expect(response.$metadata.requestId).toBe('r');
  });

  it('gives the SDK Successful and Failed members, SenderFault as a boolean', async () => {
    reply = () => ({
      status: 200,
      body: publishBatchResponseXml(
        {
          successful: [
            { id: 'a', messageId: 'ma' },
            { id: 'c', messageId: 'mc', sequenceNumber: '2' },
          ],
          failed: [
            {
              id: 'b',
              code: 'InvalidParameter',
              message: 'Invalid parameter: Empty message',
              senderFault: true,
            },
          ],
        },
        'r',
      ),
    });
    const response = await client().send(
      new PublishBatchCommand({
        TopicArn: TOPIC,
        PublishBatchRequestEntries: [
          { Id: 'a', Message: '1' },
          { Id: 'b', Message: '2' },
          { Id: 'c', Message: '3' },
        ],
      }),
    );
    expect(response.Successful).toEqual([
      { Id: 'a', MessageId: 'ma' },
      { Id: 'c', MessageId: 'mc', SequenceNumber: '2' },
    ]);
    expect(response.Failed).toEqual([
      {
        Id: 'b',
        Code: 'InvalidParameter',
        Message: 'Invalid parameter: Empty message',
        SenderFault: true,
      },
    ]);
  });

  it('gives empty lists for a batch with no failures', async () => {
    reply = () => ({
      status: 200,
      body: publishBatchResponseXml({ successful: [{ id: 'a', messageId: 'm' }], failed: [] }, 'r'),
    });
    const response = await client().send(
      new PublishBatchCommand({
        TopicArn: TOPIC,
        PublishBatchRequestEntries: [{ Id: 'a', Message: '1' }],
      }),
    );
    expect(response.Successful).toEqual([{ Id: 'a', MessageId: 'm' }]);
    expect(response.Failed ?? []).toEqual([]);
  });
});

describe('Function: errorResponseXml (parsed by the real SDK)', () => {
  async function thrown(error: SnsError): Promise<SNSServiceException> {
    reply = () => ({
      status: error.status,
      body: errorResponseXml(error, 'req-e'),
      requestId: 'req-e',
    });
    try {
      await client().send(new PublishCommand({ TopicArn: TOPIC, Message: 'x' }));
    } catch (caught) {
      if (caught instanceof SNSServiceException) return caught;
      throw caught;
    }
    throw new Error('no error thrown');
  }

  it.each([
    [snsErrors.invalidParameter('Message too long'), 'InvalidParameterException', 400],
    [snsErrors.parameterValueInvalid('bad type'), 'InvalidParameterValueException', 400],
    [snsErrors.notFound(), 'NotFoundException', 404],
    [snsErrors.tooManyEntries(), 'TooManyEntriesInBatchRequestException', 400],
    [snsErrors.batchIdsNotDistinct(), 'BatchEntryIdsNotDistinctException', 400],
    [snsErrors.emptyBatch(), 'EmptyBatchRequestException', 400],
    [snsErrors.invalidBatchEntryId('is too long: x'), 'InvalidBatchEntryIdException', 400],
    [snsErrors.batchTooLong(), 'BatchRequestTooLongException', 400],
    [snsErrors.internal(), 'InternalErrorException', 500],
    // Codes SNS's model does not list: the SDK names the exception after the code.
    [snsErrors.invalidAction('Nope'), 'InvalidAction', 400],
    [snsErrors.missingAction(), 'MissingAction', 400],
    [snsErrors.validation('message'), 'ValidationError', 400],
    [snsErrors.methodNotAllowed('GET'), 'MethodNotAllowed', 405],
    [snsErrors.requestTooLarge(10), 'RequestEntityTooLarge', 413],
  ])('turns %# (%s) into %s', async (error, name, status) => {
    const caught = await thrown(error);
    expect(caught.name).toBe(name);
    expect(caught.message).toBe(error.message);
    expect(caught.$metadata.httpStatusCode).toBe(status);
    expect(caught.$metadata.requestId).toBe('req-e');
    expect(caught.$fault).toBe(error.type === 'Sender' ? 'client' : 'server');
  });

  it('escapes text so the SDK reads it back unchanged', async () => {
    const text = `a < b & c > "d" 'e' \r\n line2 \t tab`;
    const caught = await thrown(snsErrors.parameterValueInvalid(text));
    expect(caught.message).toBe(text);
  });
});

describe('Function: escapeXml', () => {
  it('writes entities for markup characters and CR', () => {
    expect(escapeXml(`<a href="x">'&'</a>\r`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;&#xD;',
    );
  });

  it('replaces what XML 1.0 cannot carry with U+FFFD', () => {
    expect(escapeXml('a\u0000b\u001fc\ud800d\uffffe\tf\ng')).toBe(
      'a\ufffdb\ufffdc\ufffdd\ufffde\tf\ng',
    );
  });
});

describe('Function: validatePublish', () => {
  const topic: TopicConfig = { topicArn: TOPIC };
  const base = (over: Partial<PublishRequest> = {}): PublishRequest => ({
    action: 'Publish',
    version: '2010-03-31',
    topicArn: TOPIC,
    targetArn: undefined,
    phoneNumber: undefined,
    message: 'hello',
    subject: undefined,
    messageStructure: undefined,
    messageGroupId: undefined,
    messageDeduplicationId: undefined,
    messageAttributes: [],
    ...over,
  });
  const attribute = (
    name: string | undefined,
    dataType: string | undefined,
    stringValue?: string,
    binaryValue?: string,
  ): MessageAttributeInput => ({ name, dataType, stringValue, binaryValue });

  it('accepts a message without a channel attribute: that is the writer’s call, not SNS’s', () => {
    expect(validatePublish(base(), topic)).toEqual({
      ok: true,
      value: {
        message: 'hello',
        subject: undefined,
        attributes: {},
        messageGroupId: undefined,
        messageDeduplicationId: undefined,
        size: 5,
      },
    });
  });

  it('turns attributes into envelope form, binary values as base64', () => {
    const result = validatePublish(
      base({
        messageAttributes: [
          attribute('channel', 'String', 'c'),
          attribute('b', 'Binary', undefined, 'AAEC'),
          attribute('n', 'Number.int', '3'),
        ],
      }),
      topic,
    );
    expect(result.ok && result.value.attributes).toEqual({
      channel: { Type: 'String', Value: 'c' },
      b: { Type: 'Binary', Value: 'AAEC' },
      n: { Type: 'Number.int', Value: '3' },
    });
    // 5 (message) + 7+6+1 (channel) + 1+6+3 (b: three decoded bytes) + 1+10+1 (n)
    expect(result.ok && result.value.size).toBe(5 + 14 + 10 + 12);
  });

  it('counts message and attributes against 262144 bytes', () => {
    const attributes = [attribute('channel', 'String', 'c')]; // 7 + 6 + 1 = 14 bytes
    const fits = validatePublish(
      base({ message: 'x'.repeat(MAX_MESSAGE_BYTES - 14), messageAttributes: attributes }),
      topic,
    );
    expect(fits.ok).toBe(true);
    const over = validatePublish(
      base({ message: 'x'.repeat(MAX_MESSAGE_BYTES - 13), messageAttributes: attributes }),
      topic,
    );
    expect(over).toEqual({
      ok: false,
      error: {
        status: 400,
        type: 'Sender',
        code: 'InvalidParameter',
        message: 'Invalid parameter: Message too long',
      },
    });
    // UTF-8 bytes, not characters: 65537 four-byte characters are 262148 bytes.
    expect(validatePublish(base({ message: '😀'.repeat(65_537) }), topic)).toMatchObject({
      ok: false,
      error: { code: 'InvalidParameter' },
    });
  });

  it.each([
    ['an unknown topic', { topicArn: `${TOPIC}-other` }, 'NotFound', 'Topic does not exist'],
    [
      'a malformed topic ARN',
      { topicArn: 'not-an-arn' },
      'InvalidParameter',
      'Invalid parameter: TopicArn',
    ],
    [
      'no topic at all',
      { topicArn: undefined },
      'InvalidParameter',
      'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter',
    ],
    [
      'no Message',
      { message: undefined },
      'ValidationError',
      "1 validation error detected: Value null at 'message' failed to satisfy constraint: Member must not be null",
    ],
    ['an empty Message', { message: '' }, 'InvalidParameter', 'Invalid parameter: Empty message'],
    ['an empty Subject', { subject: '' }, 'InvalidParameter', 'Invalid parameter: Subject'],
    [
      'a Subject with a line break',
      { subject: 'a\nb' },
      'InvalidParameter',
      'Invalid parameter: Subject',
    ],
    [
      'another API version',
      { version: '2012-01-01' },
      'InvalidAction',
      'Could not find operation Publish for version 2012-01-01',
    ],
    [
      'a MessageDeduplicationId on a standard topic',
      { messageDeduplicationId: 'd' },
      'InvalidParameter',
      'Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type',
    ],
    [
      'a DataType SNS does not know',
      { messageAttributes: [attribute('channel', 'Strings', 'c')] },
      'ParameterValueInvalid',
      "The message attribute 'channel' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.",
    ],
    [
      'an attribute without a value',
      { messageAttributes: [attribute('channel', 'String', '')] },
      'ParameterValueInvalid',
      "The message attribute 'channel' must contain non-empty message attribute value for message attribute type 'String'.",
    ],
    [
      'a binary attribute given a string value',
      { messageAttributes: [attribute('b', 'Binary', 'text')] },
      'ParameterValueInvalid',
      "The message attribute 'b' with type 'Binary' must use field 'Binary'.",
    ],
    [
      'an attribute without a DataType',
      { messageAttributes: [attribute('channel', undefined, 'c')] },
      'ValidationError',
      "1 validation error detected: Value null at 'messageAttributes.channel.member.dataType' failed to satisfy constraint: Member must not be null",
    ],
    [
      'an attribute name with a space',
      { messageAttributes: [attribute('my channel', 'String', 'c')] },
      'ParameterValueInvalid',
      "Invalid non-alphanumeric character '#x20' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots.",
    ],
    [
      'an attribute name ending in a dot',
      { messageAttributes: [attribute('a.', 'String', 'c')] },
      'ParameterValueInvalid',
      "Invalid message attribute name ending with character '.' was found.",
    ],
    [
      'an attribute name with successive dots',
      { messageAttributes: [attribute('a..b', 'String', 'c')] },
      'ParameterValueInvalid',
      "Message attribute name can not have successive '.' character.",
    ],
    [
      'a Number attribute that is not a number',
      { messageAttributes: [attribute('price', 'Number', 'ten')] },
      'ParameterValueInvalid',
      "Could not cast message attribute 'price' value to number.",
    ],
    [
      'a labelled Number attribute that is not a number',
      { messageAttributes: [attribute('n', 'Number.int', '1,5')] },
      'ParameterValueInvalid',
      "Could not cast message attribute 'n' value to number.",
    ],
    [
      'a Number attribute of NaN',
      { messageAttributes: [attribute('n', 'Number', 'NaN')] },
      'ParameterValueInvalid',
      "Could not cast message attribute 'n' value to number.",
    ],
    [
      'eleven attributes',
      {
        messageAttributes: Array.from({ length: 11 }, (_, i) => attribute(`a${i}`, 'String', 'v')),
      },
      'ParameterValueInvalid',
      'Number of message attributes [11] exceeds the allowed maximum [10].',
    ],
    [
      'an attribute name with the reserved prefix AWS.',
      { messageAttributes: [attribute('AWS.trace', 'String', 'c')] },
      'ParameterValueInvalid',
      "Invalid message attribute name 'AWS.trace' was found. Message attribute names can not start with the reserved prefixes 'AWS.' or 'Amazon.'.",
    ],
    [
      'an attribute name with the reserved prefix amazon., in any casing',
      { messageAttributes: [attribute('aMaZoN.x', 'String', 'c')] },
      'ParameterValueInvalid',
      "Invalid message attribute name 'aMaZoN.x' was found. Message attribute names can not start with the reserved prefixes 'AWS.' or 'Amazon.'.",
    ],
    [
      'a String.Array attribute that is not JSON',
      { messageAttributes: [attribute('tags', 'String.Array', '[a, b]')] },
      'ParameterValueInvalid',
      "The message attribute 'tags' with type 'String.Array' must be a JSON array of strings, numbers, booleans or null.",
    ],
    [
      'a String.Array attribute that is JSON but not an array',
      { messageAttributes: [attribute('tags', 'String.Array', '"a"')] },
      'ParameterValueInvalid',
      "The message attribute 'tags' with type 'String.Array' must be a JSON array of strings, numbers, booleans or null.",
    ],
    [
      'a String.Array attribute holding an object',
      { messageAttributes: [attribute('tags', 'String.Array', '["a", {"b": 1}]')] },
      'ParameterValueInvalid',
      "The message attribute 'tags' with type 'String.Array' must be a JSON array of strings, numbers, booleans or null.",
    ],
    [
      'both TopicArn and TargetArn',
      { targetArn: TOPIC },
      'InvalidParameter',
      'Invalid parameter: TopicArn or TargetArn Reason: Only one of TopicArn, TargetArn or PhoneNumber may be given',
    ],
    [
      'both TopicArn and PhoneNumber',
      { phoneNumber: '+15555550100' },
      'InvalidParameter',
      'Invalid parameter: TopicArn or TargetArn Reason: Only one of TopicArn, TargetArn or PhoneNumber may be given',
    ],
  ] as const)('refuses %s with %s', (_, over, code, message) => {
    expect(validatePublish(base(over), topic)).toMatchObject({
      ok: false,
      error: { code, message },
    });
  });

  it('accepts what SNS accepts: numbers in any decimal form, JSON arrays, ten attributes, its own AWS.SNS. names', () => {
    const accepted = (messageAttributes: MessageAttributeInput[]) =>
      validatePublish(base({ messageAttributes }), topic);
    for (const value of ['10', '-1.5', '+.5', '1.', '6.02E+23', '1e-7']) {
      expect(accepted([attribute('n', 'Number', value)])).toMatchObject({ ok: true });
    }
    for (const value of ['[]', '["a", 1, -2.5, true, false, null]']) {
      expect(accepted([attribute('a', 'String.Array', value)])).toMatchObject({ ok: true });
    }
    // Only String.Array is read as JSON; other String labels are plain text.
    expect(accepted([attribute('s', 'String.json', '[not json')])).toMatchObject({ ok: true });
    expect(
      accepted(Array.from({ length: 10 }, (_, i) => attribute(`a${i}`, 'String', 'v'))),
    ).toMatchObject({ ok: true });
    expect(
      accepted([
        attribute('AWS.SNS.SMS.SMSType', 'String', 'Transactional'),
        attribute('AWS.MM.SMS.OriginationNumber', 'String', '+15555550100'),
        attribute('awsome.name', 'String', 'not reserved: no dot after aws'),
      ]),
    ).toMatchObject({ ok: true });
    expect(validatePublish(base({ topicArn: undefined, targetArn: TOPIC }), topic)).toMatchObject({
      ok: true,
    });
  });

  it('delivers the sqs (else default) text of a MessageStructure=json message', () => {
    const json = (value: unknown) =>
      base({ messageStructure: 'json', message: JSON.stringify(value) });
    expect(validatePublish(json({ default: 'd', sqs: 's' }), topic)).toMatchObject({
      ok: true,
      value: { message: 's' },
    });
    expect(validatePublish(json({ default: 'd', email: 'e' }), topic)).toMatchObject({
      ok: true,
      value: { message: 'd' },
    });
    expect(validatePublish(json({ sqs: 's' }), topic)).toMatchObject({
      ok: false,
      error: {
        message: 'Invalid parameter: Message Structure - No default entry in JSON message body',
      },
    });
  });

  it('wants MessageGroupId and MessageDeduplicationId on a FIFO topic', () => {
    const fifo: TopicConfig = { topicArn: FIFO_TOPIC };
    const request = (over: Partial<PublishRequest>) => base({ topicArn: FIFO_TOPIC, ...over });
    expect(validatePublish(request({ messageDeduplicationId: 'd' }), fifo)).toMatchObject({
      ok: false,
      error: {
        code: 'InvalidParameter',
        message: 'Invalid parameter: The MessageGroupId parameter is required for FIFO topics',
      },
    });
    expect(validatePublish(request({ messageGroupId: 'g' }), fifo)).toMatchObject({
      ok: false,
      error: { code: 'InvalidParameter' },
    });
    expect(
      validatePublish(request({ messageGroupId: 'g' }), {
        ...fifo,
        contentBasedDeduplication: true,
      }),
    ).toMatchObject({ ok: true });
    expect(
      validatePublish(request({ messageGroupId: 'g', messageDeduplicationId: 'd' }), fifo),
    ).toMatchObject({ ok: true, value: { messageGroupId: 'g', messageDeduplicationId: 'd' } });
  });
});

describe('Function: validatePublishBatch', () => {
  const topic: TopicConfig = { topicArn: TOPIC };
  const entry = (id: string | undefined, message?: string | null) => ({
    id,
    message: message === null ? undefined : (message ?? `m-${id}`),
    subject: undefined,
    messageStructure: undefined,
    messageGroupId: undefined,
    messageDeduplicationId: undefined,
    messageAttributes: [],
  });
  const batch = (entries: PublishBatchRequest['entries'], topicArn: string | null = TOPIC) =>
    validatePublishBatch(
      { action: 'PublishBatch', version: undefined, topicArn: topicArn ?? undefined, entries },
      topic,
    );
  const ids = (n: number) => Array.from({ length: n }, (_, i) => entry(`e${i}`));
  const attr = (name: string, dataType: string): MessageAttributeInput => ({
    name,
    dataType,
    stringValue: 'v',
    binaryValue: undefined,
  });

  it('accepts up to ten entries', () => {
    const result = batch(ids(10));
    expect(result.ok && result.value.map((o) => o.ok && o.message.message)).toEqual(
      ids(10).map((e) => e.message),
    );
  });

  it.each([
    ['no entries', [], 'EmptyBatchRequest'],
    ['eleven entries', ids(11), 'TooManyEntriesInBatchRequest'],
    ['duplicate ids', [entry('a'), entry('b'), entry('a')], 'BatchEntryIdsNotDistinct'],
    ['an id with a dot', [entry('a.b')], 'InvalidBatchEntryId'],
    ['an id of 81 characters', [entry('x'.repeat(81))], 'InvalidBatchEntryId'],
    ['an entry without Id', [entry(undefined)], 'ValidationError'],
    ['an entry without Message', [entry('a', null)], 'ValidationError'],
    [
      'more than 256 KiB in all',
      [entry('a', 'x'.repeat(200_000)), entry('b', 'y'.repeat(62_145))],
      'BatchRequestTooLong',
    ],
  ] as const)('refuses %s with %s', (_, entries, code) => {
    expect(batch(entries)).toMatchObject({ ok: false, error: { code } });
  });

  it.each([
    ['a Number attribute that is not a number', [{ ...attr('n', 'Number'), stringValue: 'x' }]],
    ['eleven attributes', Array.from({ length: 11 }, (_, i) => attr(`a${i}`, 'String'))],
    ['a reserved attribute name', [attr('Amazon.x', 'String')]],
    ['a String.Array that is not a JSON array', [attr('a', 'String.Array')]],
  ])('refuses, for the whole batch, an entry with %s', (_, messageAttributes) => {
    expect(batch([entry('a'), { ...entry('b'), messageAttributes }])).toMatchObject({
      ok: false,
      error: { code: 'ParameterValueInvalid', status: 400 },
    });
  });

  it('refuses an unknown topic with NotFound, and a missing one as a validation error', () => {
    expect(batch(ids(1), `${TOPIC}x`)).toMatchObject({
      ok: false,
      error: { code: 'NotFound', status: 404 },
    });
    expect(batch(ids(1), null)).toMatchObject({
      ok: false,
      error: { code: 'ValidationError' },
    });
  });

  it('fails only the entry whose own fields SNS refuses', () => {
    const result = batch([entry('a'), entry('b', ''), entry('c')]);
    expect(result).toMatchObject({
      ok: true,
      value: [
        { id: 'a', ok: true },
        {
          id: 'b',
          ok: false,
          error: { code: 'InvalidParameter', message: 'Invalid parameter: Empty message' },
        },
        { id: 'c', ok: true },
      ],
    });
  });
});

describe('Function: checkAttributes', () => {
  it('refuses the same name twice', () => {
    const twice: MessageAttributeInput = {
      name: 'a',
      dataType: 'String',
      stringValue: '1',
      binaryValue: undefined,
    };
    expect(checkAttributes([twice, twice], 'messageAttributes')).toMatchObject({
      ok: false,
      error: { code: 'ParameterValueInvalid' },
    });
  });
});

describe('Function: buildSnsEnvelope', () => {
  const recorded = JSON.parse(fixture.body) as Record<string, unknown>;
  const fields: NotificationFields = {
    messageId: recorded.MessageId as string,
    topicArn: recorded.TopicArn as string,
    message: recorded.Message as string,
    timestamp: recorded.Timestamp as string,
    attributes: recorded.MessageAttributes as NotificationFields['attributes'],
  };

  it('lays the envelope out as SNS does, key for key and byte for byte', () => {
    const built = buildSnsEnvelope(fields);
    const ours = JSON.parse(built) as Record<string, unknown>;
    // Only the signature and the URLs that name the subscription differ.
    const expected = fixture.body
      .replace(/"Signature" : "[^"]*"/, `"Signature" : "${ours.Signature}"`)
      .replace(/"SigningCertURL" : "[^"]*"/, `"SigningCertURL" : "${ours.SigningCertURL}"`)
      .replace(/"UnsubscribeURL" : "[^"]*"/, `"UnsubscribeURL" : "${ours.UnsubscribeURL}"`);
    expect(built).toBe(expected);
    expect(ours.Signature).toMatch(/^[A-Za-z0-9+/]{342}==$/);
    expect(ours.UnsubscribeURL).toMatch(
      /^https:\/\/sns\.us-east-1\.amazonaws\.com\/\?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:123456789012:SsePubSub-Topic:[0-9a-f-]{36}$/,
    );
  });

  it('is what the writer reads: parseSnsEnvelope takes MessageId, Message and attributes', () => {
    const built = buildSnsEnvelope({
      ...fields,
      message: 'line 1\nline "2" \u2028 😀',
      subject: 'Subject',
      attributes: {
        channel: { Type: 'String', Value: 'orders/42' },
        event: { Type: 'String', Value: 'order.updated' },
        dedupeId: { Type: 'String', Value: 'd-1' },
        other: { Type: 'Binary', Value: 'AAE=' },
      },
    });
    expect(parseSnsEnvelope(built)).toEqual({
      ok: true,
      notification: {
        messageId: fields.messageId,
        message: {
          channel: 'orders/42',
          event: 'order.updated',
          dedupeId: 'd-1',
          data: 'line 1\nline "2" \u2028 😀',
        },
      },
    });
    expect(Object.keys(JSON.parse(built) as object).slice(0, 5)).toEqual([
      'Type',
      'MessageId',
      'TopicArn',
      'Subject',
      'Message',
    ]);
  });

  it('leaves MessageAttributes out when there are none', () => {
    const built = JSON.parse(buildSnsEnvelope({ ...fields, attributes: {} })) as object;
    expect(built).not.toHaveProperty('MessageAttributes');
  });

  it('adds SequenceNumber and leaves the signature out on a FIFO topic', () => {
    const built = buildSnsEnvelope({
      ...fields,
      topicArn: FIFO_TOPIC,
      sequenceNumber: '00001795503600000001',
    });
    expect(Object.keys(JSON.parse(built) as object)).toEqual([
      'Type',
      'MessageId',
      'SequenceNumber',
      'TopicArn',
      'Message',
      'Timestamp',
      'UnsubscribeURL',
      'MessageAttributes',
    ]);
    expect(parseSnsEnvelope(built).ok).toBe(true);
  });
});

describe('Function: parseQueryRequest with an action the SDK sends but the endpoint lacks', () => {
  it('sees ListTopics as an action it does not support', async () => {
    await client().send(new ListTopicsCommand({}));
    expect(lastBody()).toBe('Action=ListTopics&Version=2010-03-31');
    expect(parseQueryRequest(lastBody())).toMatchObject({
      ok: false,
      error: { code: 'InvalidAction' },
    });
  });
});
