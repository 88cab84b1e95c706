/** The "Soak" section: what the soak proves, and the last soak trace checked again. */
import { type Emit, table } from '../format.js';
import type { BenchResults } from '../types.js';

export function soakSection(p: Emit, r: BenchResults): void {
  p('## Soak');
  p();
  p(
    '`npm run soak -- --minutes N` (bench/soak.ts) runs the local stack with 2–4 s stream lifetimes and a 16 KB byte budget, steady publishers with dedupe ids, and subscribers (raw SSE readers resuming with `Last-Event-ID`, npm `eventsource` clients, `/poll` long-pollers, some on two or three channels with `envelope=1`) whose connections are broken at random. ' +
      "At the end it reads every channel's log back and the checker (bench/soak-checker.ts, tested in test/unit/bench/soak-checker.test.ts on recorded traces with a planted loss, duplicate and reorder) proves every subscriber got every event exactly once, in order; it exits non-zero otherwise.",
  );
  p();
  if (r.soak !== undefined) {
    const k = r.soak.report;
    const meta = r.soak.meta;
    p(
      `Last soak run (${String(meta.startedAt ?? '?')
        .slice(0, 16)
        .replace(
          'T',
          ' ',
        )} UTC, ${String(meta.minutes ?? '?')} min, seed ${String(meta.seed ?? '?')}, ${String(meta.ratePerSecond ?? '?')} events/s), trace checked again by this run: **${k.ok ? 'passed' : 'FAILED'}**.`,
    );
    p();
    p(
      table(
        [
          'Channels',
          'Subscribers',
          'Events published / stored',
          'Deliveries expected / received',
          'Connections (streams and poll requests)',
          'Dropped on purpose',
          'Rotated by the server',
          'Violations',
        ],
        [
          [
            k.channels,
            k.subscribers,
            `${k.eventsPublished} / ${k.eventsStored}`,
            `${k.expectedDeliveries} / ${k.deliveries}`,
            k.connections,
            k.drops,
            k.rotations,
            Object.values(k.violationCounts).reduce((n, v) => n + v, 0),
          ],
        ],
      ),
    );
    p();
  }
}
