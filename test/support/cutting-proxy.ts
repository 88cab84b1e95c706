import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface CuttingProxy {
  readonly url: string;
  /** Connections cut so far. */
  cuts(): number;
  close(): Promise<void>;
}

/**
 * Forwards to `target`; on each of the first `cuts` connections it forwards the
 * response up to a few bytes into the third `data:` line of the body and then destroys
 * both sockets, so the client holds a half-received event.
 */
export function startCuttingProxy(target: URL, cuts: number): Promise<CuttingProxy> {
  let connections = 0;
  let cut = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const cutThis = connections++ < cuts;
    const upstream = createConnection(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(upstream);
    let seen = '';
    upstream.on('data', (chunk: Buffer) => {
      if (!cutThis) {
        client.write(chunk);
        return;
      }
      const before = seen.length;
      seen += chunk.toString('latin1');
      const body = seen.indexOf('\r\n\r\n');
      let at = body;
      for (let n = 0; at !== -1 && n < 3; n += 1) at = seen.indexOf('data: ', at + 1);
      if (body === -1 || at === -1) {
        client.write(chunk);
        return;
      }
      client.write(chunk.subarray(0, at + 'data: '.length + 2 - before), () => {
        cut += 1;
        client.destroy();
        upstream.destroy();
      });
      upstream.pause();
    });
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({
        url: `http://127.0.0.1:${port}`,
        cuts: () => cut,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    }),
  );
}
