/**
 * Memory per idle connection. The server runs in a child process started with
 * `--expose-gc`; its memory is read after two forced GCs at three points: before any
 * connection (after a warm-up), after `first` idle SSE connections, and after `total`.
 * All connections are on one channel and past their `stream.open`; the clients live in
 * this process, so they do not count.
 *
 * The figure per connection is the marginal one, (M(total) − M(first)) / (total − first):
 * the first connections also pay one-off costs (V8 growing its heap in big steps, code
 * compiled on first use), which the average from zero, also reported, includes.
 */
import type { ServerChild } from './lib/server-child.js';
import { sleep } from './lib/stats.js';
import { closeSubscribers, connectSubscribers } from './lib/subscribers.js';

export interface MemoryUse {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  /** heapUsed + external + arrayBuffers: what JavaScript holds on to. */
  readonly js: number;
}

export interface MemoryResult {
  readonly first: number;
  readonly connections: number;
  readonly opened: number;
  /** Marginal bytes per connection between `first` and `connections`. */
  readonly perConnection: MemoryUse;
  /** Bytes per connection from zero to `connections` (includes one-off growth). */
  readonly averageFromZero: MemoryUse;
  readonly samples: readonly {
    readonly connections: number;
    readonly memory: NodeJS.MemoryUsage;
  }[];
}

function use(m: NodeJS.MemoryUsage): MemoryUse {
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    js: m.heapUsed + m.external + m.arrayBuffers,
  };
}

function perConnection(a: NodeJS.MemoryUsage, b: NodeJS.MemoryUsage, n: number): MemoryUse {
  const x = use(a);
  const y = use(b);
  return {
    rss: (y.rss - x.rss) / n,
    heapUsed: (y.heapUsed - x.heapUsed) / n,
    heapTotal: (y.heapTotal - x.heapTotal) / n,
    js: (y.js - x.js) / n,
  };
}

export async function measureMemory(
  server: ServerChild,
  first: number,
  total: number,
  channel: string,
): Promise<MemoryResult> {
  const connect = (count: number) =>
    connectSubscribers({
      baseUrl: server.url,
      count,
      channelsOf: () => [channel],
      onEvent: () => {},
    });
  // Warm the paths (route JIT, the channel's poller) so they do not count per connection.
  const warm = await connect(20);
  await sleep(1_000);
  closeSubscribers(warm);
  await sleep(1_000);
  const m0 = (await server.stats()).memory;
  const firstBatch = await connect(first);
  const rest: Awaited<ReturnType<typeof connect>> = [];
  try {
    await sleep(2_000);
    const m1 = (await server.stats()).memory;
    rest.push(...(await connect(total - first)));
    await sleep(2_000);
    const m2 = (await server.stats()).memory;
    return {
      first,
      connections: total,
      opened: [...firstBatch, ...rest].filter((s) => s.opened).length,
      perConnection: perConnection(m1, m2, total - first),
      averageFromZero: perConnection(m0, m2, total),
      samples: [
        { connections: 0, memory: m0 },
        { connections: first, memory: m1 },
        { connections: total, memory: m2 },
      ],
    };
  } finally {
    closeSubscribers(firstBatch);
    closeSubscribers(rest);
    await sleep(500);
  }
}
