/**
 * A counting HTTP proxy in front of DynamoDB Local, for a server in another process
 * whose SDK client the bench cannot hook ({@link countDynamoDB} counts inside this
 * process only). The server's `AWS_ENDPOINT_URL_DYNAMODB` points here; every request is
 * passed on unchanged and counted by its `X-Amz-Target` (`DynamoDB_20120810.Query`, …)
 * and, for reads, by the channel in its key (the event log's partition key; each key's
 * channel for a BatchGetItem), so a benchmark can take the reads of its own channels only. The counts have the shape of
 * {@link DynamoDBCounts}, so `diffCounts` and `readsWhere` work on them as on the
 * in-process counter's.
 *
 * Read units are AWS's minimum per request (0.5 eventually consistent, 1 strongly
 * consistent): exact for reads that return at most 4 KB, which is every idle poll. The
 * request is not rewritten to ask DynamoDB Local for its capacity figures, so that the
 * server under test gets exactly the answers it would get without the proxy.
 */
import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CommandCount,
  type CountedInput,
  type DynamoDBCounts,
  READ_COMMANDS,
  ReadTally,
} from './dynamodb-counter.js';

const TARGET_PREFIX = 'DynamoDB_20120810.';

/** The SDK's command name for an `X-Amz-Target` (`DynamoDB_20120810.Query` → `QueryCommand`). */
export function commandOfTarget(target: string | undefined): string {
  if (target === undefined || !target.startsWith(TARGET_PREFIX)) return 'unknown';
  return `${target.slice(TARGET_PREFIX.length)}Command`;
}

function parseBody(body: string): CountedInput {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? (value as CountedInput) : {};
  } catch {
    return {};
  }
}

/** Counts requests as the proxy sees them; pure, so it can be tested without a network. */
export class RequestTally {
  readonly #byCommand = new Map<string, CommandCount>();
  readonly #reads = new ReadTally();

  /** One request: its target header, its JSON body, and whether DynamoDB answered 2xx. */
  record(target: string | undefined, body: string, ok: boolean): void {
    const command = commandOfTarget(target);
    let count = this.#byCommand.get(command);
    if (count === undefined) {
      count = { requests: 0, failures: 0, readUnits: 0, writeUnits: 0, failedWriteUnits: 0 };
      this.#byCommand.set(command, count);
    }
    count.requests += 1;
    if (!ok) {
      count.failures += 1;
      return;
    }
    if (!READ_COMMANDS.has(command)) return;
    count.readUnits += this.#reads.record(command, parseBody(body));
  }

  snapshot(): DynamoDBCounts {
    const byCommand: Record<string, CommandCount> = {};
    let reads = 0;
    let readUnits = 0;
    for (const [name, count] of this.#byCommand) {
      byCommand[name] = { ...count };
      if (READ_COMMANDS.has(name)) reads += count.requests;
      readUnits += count.readUnits;
    }
    // Write units are not counted here: the server under test only reads.
    return { byCommand, ...this.#reads.snapshot(), reads, readUnits, writeUnits: 0 };
  }
}

export interface CountingProxy {
  /** `http://127.0.0.1:<port>`: what the server's `AWS_ENDPOINT_URL_DYNAMODB` is set to. */
  readonly endpoint: string;
  /** Counts of every request, or (`command`, e.g. `QueryCommand`) of that command only. */
  snapshot(command?: string): DynamoDBCounts;
  close(): Promise<void>;
}

function forwardHeaders(headers: IncomingHttpHeaders, upstream: URL): IncomingHttpHeaders {
  // Host is the one header a proxy must change; the rest (signature included) pass as sent.
  return { ...headers, host: upstream.host };
}

/** Starts the proxy on 127.0.0.1 (a free port), forwarding to `upstream` (DynamoDB Local). */
export async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const target = new URL(upstream);
  const tally = new RequestTally();
  // One more tally per command, so reads of a channel can be split by command.
  const tallies = new Map<string, RequestTally>();
  const record = (target: string | undefined, body: string, ok: boolean): void => {
    tally.record(target, body, ok);
    const command = commandOfTarget(target);
    let own = tallies.get(command);
    if (own === undefined) {
      own = new RequestTally();
      tallies.set(command, own);
    }
    own.record(target, body, ok);
  };
  // Keep-alive on both sides, as the SDK's own connection pool would have it.
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const amzTarget = req.headers['x-amz-target'];
      const targetHeader = Array.isArray(amzTarget) ? amzTarget[0] : amzTarget;
      const outgoing = request(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: forwardHeaders(req.headers, target),
          agent,
        },
        (answer) => {
          const status = answer.statusCode ?? 502;
          record(targetHeader, body.toString('utf8'), status >= 200 && status < 300);
          res.writeHead(status, answer.headers);
          answer.pipe(res);
        },
      );
      outgoing.on('error', () => {
        record(targetHeader, body.toString('utf8'), false);
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      outgoing.end(body);
    });
  };

  const server = createServer(handle);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    snapshot: (command) =>
      (command === undefined ? tally : (tallies.get(command) ?? new RequestTally())).snapshot(),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
