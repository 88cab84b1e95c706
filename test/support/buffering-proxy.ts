/**
 * A reverse proxy for tests that misbehaves like the proxies SSE meets in the wild: it
 * can hold `/events` responses back (all of it, or the body after the headers) until
 * the upstream response ends or for a while, and it can cut every connection at once.
 * Everything else (`/poll`) passes straight through. It listens on 127.0.0.1.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request as upstreamRequest,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * - `off`: pass everything through as it comes;
 * - `all`: hold the status, headers and body of `/events` (the client sees nothing);
 * - `body`: send the headers at once, hold the body (the client sees an open stream
 *   that says nothing).
 */
export type BufferingMode = 'off' | 'all' | 'body';

export interface ProxiedRequest {
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** The mode it was served in. */
  readonly mode: BufferingMode;
  /** When it arrived, ms since the epoch. */
  readonly at: number;
}

export interface BufferingProxy {
  readonly url: string;
  /** Applies to `/events` requests that arrive from now on. */
  mode: BufferingMode;
  /** Held responses are released after this long, or when they end. @default Infinity */
  holdMs: number;
  /** Every request received, in order. */
  readonly requests: ProxiedRequest[];
  /** Requests to `path` (`/events`, `/poll`). */
  requestsTo(path: string): ProxiedRequest[];
  /** Cuts every open connection, client side and upstream; resolves with how many. */
  dropAll(): number;
  close(): Promise<void>;
}

export async function startBufferingProxy(
  target: string,
  options: { mode?: BufferingMode; holdMs?: number } = {},
): Promise<BufferingProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const requests: ProxiedRequest[] = [];
  const state = { mode: options.mode ?? 'off', holdMs: options.holdMs ?? Number.POSITIVE_INFINITY };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    const mode: BufferingMode = url.pathname === '/events' ? state.mode : 'off';
    requests.push({
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      mode,
      at: Date.now(),
    });

    const headers = { ...req.headers, host: upstream.host };
    const outgoing = upstreamRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers,
      },
      (incoming: IncomingMessage) => {
        if (mode === 'off') {
          res.writeHead(incoming.statusCode ?? 502, incoming.headers);
          res.flushHeaders();
          incoming.pipe(res);
          return;
        }
        if (mode === 'body') {
          res.writeHead(incoming.statusCode ?? 502, incoming.headers);
          res.flushHeaders();
        }
        const held: Buffer[] = [];
        let released = false;
        const release = (): void => {
          if (released || res.destroyed) return;
          released = true;
          clearTimeout(timer);
          incoming.off('data', hold);
          if (mode === 'all') res.writeHead(incoming.statusCode ?? 502, incoming.headers);
          for (const chunk of held) res.write(chunk);
          if (incoming.readableEnded) res.end();
          else incoming.pipe(res);
        };
        const hold = (chunk: Buffer): void => {
          held.push(chunk);
        };
        incoming.on('data', hold);
        incoming.once('end', release);
        const timer = Number.isFinite(state.holdMs) ? setTimeout(release, state.holdMs) : undefined;
        res.once('close', () => clearTimeout(timer));
      },
    );
    outgoing.on('error', () => res.destroy());
    res.once('close', () => outgoing.destroy());
    req.pipe(outgoing);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get mode() {
      return state.mode;
    },
    set mode(mode: BufferingMode) {
      state.mode = mode;
    },
    get holdMs() {
      return state.holdMs;
    },
    set holdMs(ms: number) {
      state.holdMs = ms;
    },
    requests,
    requestsTo: (path) => requests.filter((r) => r.path === path),
    dropAll: () => {
      const count = sockets.size;
      for (const socket of sockets) socket.destroy();
      return count;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
