/** The "Memory per idle connection" section: product and baseline server, per connection. */
import { type Emit, kb, table } from '../format.js';
import type { BenchResults } from '../types.js';

export function memorySection(p: Emit, r: BenchResults): void {
  p('## Memory per idle connection (Node adapter)');
  p();
  const mp = r.memory.product;
  const mb = r.memory.baseline;
  p(
    `The server in a child process started with \`--expose-gc\`; its memory is read after two forced GCs with 0 (after a warm-up), ${mp.first} and ${mp.connections} idle SSE connections on one channel, each past its \`stream.open\`. The clients are in another process. ` +
      `"Per connection" is the marginal cost from ${mp.first} to ${mp.connections} connections; the average from zero also carries one-off costs (V8 growing its heap in large steps, code compiled on first use), which is why it is higher.`,
  );
  p();
  p(
    table(
      [
        'Server',
        'Connections opened',
        'RSS per connection',
        'Heap used',
        'Heap committed',
        'Heap + external + array buffers',
        'RSS, average from zero',
      ],
      [
        [
          'Product (local stack)',
          `${mp.opened}/${mp.connections}`,
          kb(mp.perConnection.rss),
          kb(mp.perConnection.heapUsed),
          kb(mp.perConnection.heapTotal),
          kb(mp.perConnection.js),
          kb(mp.averageFromZero.rss),
        ],
        [
          'Baseline (better-sse)',
          `${mb.opened}/${mb.connections}`,
          kb(mb.perConnection.rss),
          kb(mb.perConnection.heapUsed),
          kb(mb.perConnection.heapTotal),
          kb(mb.perConnection.js),
          kb(mb.averageFromZero.rss),
        ],
      ],
    ),
  );
  p();
}
