/**
 * `POST /sns`: SNS's `Publish` and `PublishBatch` for the local stack, as the AWS SDK v3
 * `SNSClient` calls them (`endpoint: "http://127.0.0.1:8787/sns"` makes it POST to
 * `/sns/`). It parses the query-protocol form, applies SNS's own rules, stores accepted
 * messages durably in the outbox, answers with SNS's XML, and hands them to the deliverer.
 *
 * Requests without a SigV4 `Authorization` header are refused before their body is read
 * (see `authorization.ts` for why); the signature itself is not checked.
 *
 * It never throws and never leaves a request unanswered: bad input gets SNS's XML error
 * with a 4xx status, an internal failure (say, the outbox store is down) a 500
 * `InternalError`, which the SDK retries.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Log } from '../../functions/core/log.js';
import { checkAuthorization } from './authorization.js';
import { type Deliverer, outboxMessage } from './deliverer.js';
import { OutboxIds } from './outbox-ids.js';
import type { OutboxMessage, OutboxStore } from './outbox-store.js';
import { parseQueryRequest } from './query-protocol.js';
import { type SnsError, snsErrors } from './sns-error.js';
import {
  type AcceptedMessage,
  parseTopicArn,
  type TopicConfig,
  validatePublish,
  validatePublishBatch,
} from './validate.js';
import {
  type BatchFailureXml,
  type BatchSuccessXml,
  errorResponseXml,
  publishBatchResponseXml,
  publishResponseXml,
} from './xml.js';

export interface SnsEndpointOptions extends TopicConfig {
  readonly outbox: Pick<OutboxStore, 'add'>;
  /** Told after each successful store, so delivery starts at once. */
  readonly deliverer: Pick<Deliverer, 'reserve'>;
  /**
   * Largest request body read, in bytes; larger gets a 413. @default 1 MiB, enough for
   * any valid request: 256 KiB of message and attributes, percent-encoded at worst 3×.
   */
  readonly maxBodyBytes?: number;
  /** @default errors on stderr */
  readonly log?: Log;
  /** Outbox ids and FIFO sequence numbers. @default a fresh `OutboxIds` */
  readonly ids?: OutboxIds;
  /** @default Date.now */
  readonly now?: () => number;
  /** SNS MessageIds, SQS record ids and request ids. @default crypto.randomUUID */
  readonly uuid?: () => string;
}

export type SnsEndpoint = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Past this, an oversized body is not drained to answer 413 politely: the socket is cut. */
const DISCARD_LIMIT_FACTOR = 16;

const PATHS = new Set(['/sns', '/sns/']);

const stderrLog: Log = {
  info: () => {},
  error: (message, fields) => console.error(`local SNS: ${message} ${JSON.stringify(fields)}`),
};

type Body = { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false };

/**
 * Reads the body up to `limit` bytes. A longer body is read to its end and thrown away
 * (so that the client, still sending, gets to read the 413), unless it goes on far past
 * the limit, in which case the request is destroyed.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.byteLength;
    if (size <= limit) chunks.push(buffer);
    else {
      chunks.length = 0;
      if (size > limit * DISCARD_LIMIT_FACTOR) {
        req.destroy();
        return { ok: false };
      }
    }
  }
  // Bytes, not text: decoding here would hide invalid UTF-8 that SNS refuses.
  return size > limit ? { ok: false } : { ok: true, bytes: Buffer.concat(chunks) };
}

/** Builds the `POST /sns` request listener. */
export function createSnsEndpoint(options: SnsEndpointOptions): SnsEndpoint {
  const topic: TopicConfig = {
    topicArn: options.topicArn,
    contentBasedDeduplication: options.contentBasedDeduplication,
  };
  const fifo = parseTopicArn(options.topicArn)?.fifo ?? false;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = options.log ?? stderrLog;
  const now = options.now ?? Date.now;
  const uuid = options.uuid ?? randomUUID;
  const ids = options.ids ?? new OutboxIds(now, uuid);

  function toOutbox(accepted: AcceptedMessage, timestamp: string): OutboxMessage {
    const { id, sequenceNumber } = ids.next();
    const messageId = uuid();
    return outboxMessage(id, uuid(), {
      messageId,
      topicArn: options.topicArn,
      message: accepted.message,
      subject: accepted.subject,
      timestamp,
      attributes: accepted.attributes,
      sequenceNumber: fifo ? sequenceNumber : undefined,
    });
  }

  async function store(messages: readonly OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    // Reserved first, so a channel's messages go out in the order they were accepted even
    // when a later request's write finishes first.
    const ticket = options.deliverer.reserve(messages);
    try {
      await options.outbox.add(messages);
    } catch (error) {
      ticket.abandoned();
      throw error;
    }
    ticket.stored();
  }

  /** The status and XML for one request; throws only on an internal failure. */
  async function handle(
    req: IncomingMessage,
    requestId: string,
  ): Promise<[number, string, Record<string, string>?]> {
    const error = (e: SnsError): [number, string] => [e.status, errorResponseXml(e, requestId)];
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    if (!PATHS.has(path)) {
      req.resume();
      return error(snsErrors.noSuchPath(path));
    }
    if (req.method !== 'POST') {
      req.resume();
      const [status, xml] = error(snsErrors.methodNotAllowed(req.method ?? ''));
      return [status, xml, { allow: 'POST' }];
    }
    const unauthenticated = checkAuthorization(req.headers.authorization);
    if (unauthenticated !== undefined) {
      req.resume();
      return error(unauthenticated);
    }
    const body = await readBody(req, maxBodyBytes);
    if (!body.ok) return error(snsErrors.requestTooLarge(maxBodyBytes));
    const parsed = parseQueryRequest(body.bytes);
    if (!parsed.ok) return error(parsed.error);
    const { request } = parsed;
    const timestamp = new Date(now()).toISOString();

    if (request.action === 'Publish') {
      const checked = validatePublish(request, topic);
      if (!checked.ok) return error(checked.error);
      const message = toOutbox(checked.value, timestamp);
      await store([message]);
      return [
        200,
        publishResponseXml(
          {
            messageId: message.notification.messageId,
            sequenceNumber: message.notification.sequenceNumber,
          },
          requestId,
        ),
      ];
    }

    const checked = validatePublishBatch(request, topic);
    if (!checked.ok) return error(checked.error);
    const successful: BatchSuccessXml[] = [];
    const failed: BatchFailureXml[] = [];
    const messages: OutboxMessage[] = [];
    for (const outcome of checked.value) {
      if (!outcome.ok) {
        failed.push({
          id: outcome.id,
          code: outcome.error.code,
          message: outcome.error.message,
          senderFault: outcome.error.type === 'Sender',
        });
        continue;
      }
      const message = toOutbox(outcome.message, timestamp);
      messages.push(message);
      successful.push({
        id: outcome.id,
        messageId: message.notification.messageId,
        sequenceNumber: message.notification.sequenceNumber,
      });
    }
    await store(messages);
    return [200, publishBatchResponseXml({ successful, failed }, requestId)];
  }

  return async (req, res) => {
    const requestId = uuid();
    let answer: [number, string, Record<string, string>?];
    try {
      answer = await handle(req, requestId);
    } catch (error) {
      log.error('SNS request failed', {
        requestId,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
      answer = [500, errorResponseXml(snsErrors.internal(), requestId)];
    }
    try {
      if (res.headersSent || res.destroyed) return;
      const [status, xml, headers] = answer;
      const body = Buffer.from(xml, 'utf8');
      res.writeHead(status, {
        ...headers,
        'content-type': 'text/xml',
        'content-length': String(body.byteLength),
        'x-amzn-requestid': requestId,
      });
      res.end(body);
    } catch (error) {
      log.error('SNS response failed', { requestId, error: String(error) });
      res.destroy();
    }
  };
}
