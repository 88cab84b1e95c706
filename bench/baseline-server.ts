/**
 * The baseline: a minimal in-memory broadcast SSE server on `better-sse`, with no event
 * log, no cursors and no durability. A published event is pushed to the channel's open
 * sessions at once and then forgotten.
 *
 * It speaks the same protocol the bench clients use against the product, so the clients
 * and the publisher are identical in both runs:
 * - `GET /events?channel=A[&channel=B…]`: an SSE stream; a `stream.open` event first (the
 *   product sends one too, and the bench waits for it before publishing);
 * - `POST /sns` (and `/sns/`): SNS `Publish` / `PublishBatch` (bench/lib/sns-endpoint.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Channel, createChannel, createSession } from 'better-sse';
import { DEFAULT_LOCAL_TOPIC_ARN } from '../local/defaults.js';
import { handleSnsRequest, type SnsMessage } from './lib/sns-endpoint.js';

export interface BaselineServer {
  readonly url: string;
  readonly topicArn: string;
  close(): Promise<void>;
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

  // Pushed to the channel's open sessions while the publish request is answered.
  const publish = (message: SnsMessage): boolean => {
    channels.get(message.channel)?.broadcast(message.data, message.event);
    return true;
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
          ? handleSnsRequest(req, res, publish)
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
