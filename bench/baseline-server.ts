/**
 * The baseline: a minimal in-memory broadcast SSE server on `better-sse`, with no event
 * log, no cursors and no durability. A published event is pushed to the channel's open
 * sessions at once and then forgotten.
 *
 * It speaks the same protocol the bench clients use against the product, so the clients
 * and the publisher are identical in both runs:
 * - `GET /events?channel=A[&channel=B…]`: an SSE stream; a `stream.open` event first (the
 *   product sends one too, and the bench waits for it before publishing);
 * - `POST /sns` (and `/sns/`): SNS `Publish` / `PublishBatch` in the AWS query protocol,
 *   parsed with the local stack's own parser and answered with its XML builders.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Channel, createChannel, createSession } from 'better-sse';
import { DEFAULT_LOCAL_TOPIC_ARN } from '../local/defaults.js';
import { type MessageInput, parseQueryRequest } from '../local/sns/query-protocol.js';
import { publishBatchResponseXml, publishResponseXml } from '../local/sns/xml.js';

export interface BaselineServer {
  readonly url: string;
  readonly topicArn: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

function attribute(message: MessageInput, name: string): string | undefined {
  return message.messageAttributes.find((a) => a.name === name)?.stringValue;
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

export async function startBaselineServer(
  options: { readonly port?: number; readonly host?: string } = {},
): Promise<BaselineServer> {
  const channels = new Map<string, Channel>();
  const channelOf = (name: string): Channel => {
    let channel = channels.get(name);
    if (channel === undefined) {
      channel = createChannel();
      channels.set(name, channel);
    }
    return channel;
  };

  const publish = (message: MessageInput): boolean => {
    const channel = attribute(message, 'channel');
    if (channel === undefined || message.message === undefined) return false;
    const event = attribute(message, 'event') ?? 'message';
    channels.get(channel)?.broadcast(message.message, event);
    return true;
  };

  const sns = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const parsed = parseQueryRequest(await readBody(req));
    const requestId = randomUUID();
    const xml = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'text/xml' }).end(body);
    };
    if (!parsed.ok) {
      xml(400, '<ErrorResponse><Error><Code>InvalidParameter</Code></Error></ErrorResponse>');
      return;
    }
    const request = parsed.request;
    if (request.action === 'Publish') {
      if (!publish(request)) {
        xml(400, '<ErrorResponse><Error><Code>InvalidParameter</Code></Error></ErrorResponse>');
        return;
      }
      xml(200, publishResponseXml({ messageId: randomUUID() }, requestId));
      return;
    }
    const successful = [];
    const failed = [];
    for (const entry of request.entries ?? []) {
      const id = entry.id ?? '';
      if (publish(entry)) successful.push({ id, messageId: randomUUID() });
      else failed.push({ id, code: 'InvalidParameter', message: 'no channel', senderFault: true });
    }
    xml(200, publishBatchResponseXml({ successful, failed }, requestId));
  };

  const events = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const names = url.searchParams.getAll('channel');
    const session = await createSession(req, res, {
      retry: 1_000,
      keepAlive: 15_000,
      // The payload goes out verbatim, as the product sends it (not JSON-encoded).
      serializer: (data: unknown) => (typeof data === 'string' ? data : JSON.stringify(data)),
    });
    for (const name of names) channelOf(name).register(session);
    session.push(JSON.stringify({ channels: names }), 'stream.open');
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route =
      url.pathname === '/events' && req.method === 'GET'
        ? events(req, res, url)
        : (url.pathname === '/sns' || url.pathname === '/sns/') && req.method === 'POST'
          ? sns(req, res)
          : Promise.resolve(void res.writeHead(404).end());
    route.catch(() => res.destroy());
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    topicArn: DEFAULT_LOCAL_TOPIC_ARN,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
