/**
 * A stand-in for the Web Function endpoint in front of several environments: each new
 * connection goes to the first backend that accepts it. When an environment is retired
 * it stops listening, so its clients' reconnects land on the next one, as on AWS.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface EndpointProxy {
  readonly url: string;
  /** Connections each backend (by port) took. */
  connectionsByPort(): ReadonlyMap<number, number>;
  close(): Promise<void>;
}

export async function startEndpointProxy(backendPorts: readonly number[]): Promise<EndpointProxy> {
  const taken = new Map<number, number>();
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };

  const connectFirst = (ports: readonly number[]): Promise<Socket | undefined> =>
    new Promise((resolve) => {
      const [port, ...rest] = ports;
      if (port === undefined) {
        resolve(undefined);
        return;
      }
      const upstream = createConnection(port, '127.0.0.1');
      upstream.once('connect', () => {
        taken.set(port, (taken.get(port) ?? 0) + 1);
        resolve(upstream);
      });
      upstream.once('error', () => {
        upstream.destroy();
        void connectFirst(rest).then(resolve);
      });
    });

  const server = createServer((client) => {
    track(client);
    client.pause();
    void connectFirst(backendPorts).then((upstream) => {
      if (upstream === undefined) {
        client.destroy();
        return;
      }
      track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    connectionsByPort: () => taken,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
