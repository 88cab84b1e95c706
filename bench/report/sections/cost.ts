/** The "Cost" section: the cost rows of the summary and their totals. */
import { DEPLOYMENT_DEFAULTS } from '../../../functions/config/environment.js';
import { PRICES } from '../cost.js';
import { type Emit, pct, table, usd } from '../format.js';
import type { Summary } from '../types.js';

const { streamMemoryMb, streamLifetimeSeconds, streamLifetimeJitter } = DEPLOYMENT_DEFAULTS;

export function costSection(p: Emit, s: Summary): void {
  p('## Cost (AWS, us-east-1, arm64) from the measured requests');
  p();
  p(
    'Prices from FACTS.md (2026-11; re-check before quoting). Quantities marked "measured" come from the tables above; the Lambda duration is not a measurement but the design: a stream is one invocation for its whole life, idle or not. ' +
      `Stream function: ${streamMemoryMb} MB arm64, lifetime ${streamLifetimeSeconds / 60} min with ${pct(streamLifetimeJitter)} jitter (defaults). Not priced: SQS requests of the writer's queue, the writer's duration, CloudWatch logs and metrics, data transfer.`,
  );
  p();
  p(
    table(
      ['Item', 'Quantity', 'Unit price', 'Cost', 'Per'],
      s.cost.rows.map((row) => [row.item, row.quantity, row.unitPrice, usd(row.dollars), row.per]),
    ),
  );
  p();
  p(
    `**Totals:** an idle subscriber on Lambda ≈ **${usd(s.cost.idleConnectionHour)} per connection-hour** (${usd(s.cost.idleConnectionHour * 730)} per month; ${pct((((3600 * streamMemoryMb) / 1024) * PRICES.lambdaArmGbSecond) / s.cost.idleConnectionHour)} of it Lambda duration); ` +
      `publishing ≈ **${usd(s.cost.perMillionPublished)} per million events**; delivering ≈ **${usd(s.cost.perMillionDelivered)} per million deliveries** in reads on top of the connection-hours (at 5 events/s; each poll then returns about one event). ` +
      `For comparison (FACTS.md): AppSync Events ≈ $0.000005 and API Gateway WebSocket ≈ $0.00003 per connection-hour — a Lambda stream costs about ${Math.round(s.cost.idleConnectionHour / 0.00003)}× a WebSocket connection-hour, almost all of it Lambda duration. ` +
      `The Node adapter's reads cost ${usd(s.cost.nodeChannelHour)} per channel-hour whatever the number of subscribers (plus the host it runs on).`,
  );
  p();
}
