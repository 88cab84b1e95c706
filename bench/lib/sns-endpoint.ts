/**
 * The `POST /sns` route of the bench's comparison servers (better-sse, nchan): SNS
 * `Publish` / `PublishBatch` in the AWS query protocol, parsed with the local stack's own
 * parser and answered with its XML builders, so the publisher SDK on the real
 * `SNSClient` drives every server the same way. Each message is handed to `publish`
 * in request order (a batch's entries one after another, as their order is the
 * channel's order).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type MessageInput, parseQueryRequest } from '../../local/sns/query-protocol.js';
import { publishBatchResponseXml, publishResponseXml } from '../../local/sns/xml.js';

/** One message as the comparison servers need it: its `channel` and `event` attributes. */
export interface SnsMessage {
  readonly channel: string;
  readonly event: string;
  readonly data: string;
}

const MAX_BODY_BYTES = 1024 * 1024;
const INVALID = '<ErrorResponse><Error><Code>InvalidParameter</Code></Error></ErrorResponse>';

function attribute(message: MessageInput, name: string): string | undefined {
  return message.messageAttributes.find((a) => a.name === name)?.stringValue;
}

/** The message's channel, event and body, or `undefined` when it has no channel or body. */
export function snsMessage(message: MessageInput): SnsMessage | undefined {
  const channel = attribute(message, 'channel');
  if (channel === undefined || message.message === undefined) return undefined;
  return { channel, event: attribute(message, 'event') ?? 'message', data: message.message };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.byteLength;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Answers one `POST /sns`; `publish` says whether it took the message. */
export async function handleSnsRequest(
  req: IncomingMessage,
  res: ServerResponse,
  publish: (message: SnsMessage) => boolean | Promise<boolean>,
): Promise<void> {
  const parsed = parseQueryRequest(await readBody(req));
  const requestId = randomUUID();
  const xml = (status: number, body: string): void => {
    res.writeHead(status, { 'content-type': 'text/xml' }).end(body);
  };
  if (!parsed.ok) {
    xml(400, INVALID);
    return;
  }
  const request = parsed.request;
  if (request.action === 'Publish') {
    const message = snsMessage(request);
    if (message === undefined || !(await publish(message))) {
      xml(400, INVALID);
      return;
    }
    xml(200, publishResponseXml({ messageId: randomUUID() }, requestId));
    return;
  }
  const successful = [];
  const failed = [];
  for (const entry of request.entries ?? []) {
    const id = entry.id ?? '';
    const message = snsMessage(entry);
    if (message !== undefined && (await publish(message))) {
      successful.push({ id, messageId: randomUUID() });
    } else {
      failed.push({ id, code: 'InvalidParameter', message: 'no channel', senderFault: true });
    }
  }
  xml(200, publishBatchResponseXml({ successful, failed }, requestId));
}
