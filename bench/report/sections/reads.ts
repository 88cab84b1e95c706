/** The "Event-log reads per connection" section: idle and active reads of both fleets. */
import { DEPLOYMENT_DEFAULTS } from '../../../functions/config/environment.js';
import { round } from '../../lib/stats.js';
import { type Emit, fleetLabel, table } from '../format.js';
import type { BenchResults } from '../types.js';

export function readsSection(p: Emit, r: BenchResults): void {
  p('## Event-log reads per connection');
  p();
  p(
    'Counted inside the AWS SDK: a middleware on the DynamoDB client counts every command and asks for `ReturnConsumedCapacity`; read units are billed as AWS would (at least 0.5 per eventually consistent and 1 per strongly consistent request, which DynamoDB Local reports as 0 for an empty result). ' +
      "**Node adapter** = the local stack's subscribe side assembled as `local/stack.ts` does (SharedFeed: one poller per channel) in a child process, with real SSE connections. " +
      '**Lambda fleet** = one `PollingFeed` + `runStreamSession` per connection, as `functions/handlers/stream.ts` runs each invocation, all in the bench process. ' +
      `Both on one DynamoDB Local table, default poll interval ${DEPLOYMENT_DEFAULTS.pollMinMs} → ${DEPLOYMENT_DEFAULTS.pollMaxMs} ms, heartbeat ${DEPLOYMENT_DEFAULTS.heartbeatSeconds} s; events appended by the bench directly. Idle figures are taken after a 3 s warm-up (so the pollers have backed off).`,
  );
  p();
  p(
    table(
      [
        'Fleet',
        'Subscribers',
        'Channels',
        'Idle reads/s',
        'Reads per idle connection-second',
        'Reads per poller per poll interval',
        'RCU per idle connection-hour',
        'Reads per connect',
      ],
      r.idleReads.map((x) => [
        fleetLabel(x.fleet),
        x.subscribers,
        x.channels,
        round(x.readsPerSecond, 2),
        round(x.readsPerConnectionSecond, 4),
        round(x.readsPerPollInterval, 2),
        round(x.readUnitsPerConnectionHour, 1),
        round(x.connectReadsPerConnection, 2),
      ]),
    ),
  );
  p();
  p(
    table(
      [
        'Fleet',
        'Subscribers',
        'Events/s',
        'Appended',
        'Delivered',
        'Reads',
        'Reads per delivered event',
        'RCU per delivered event',
      ],
      r.activeReads.map((x) => [
        fleetLabel(x.fleet),
        x.subscribers,
        x.ratePerSecond,
        x.appended,
        x.delivered,
        x.reads,
        round(x.readsPerDeliveredEvent, 4),
        round(x.readUnitsPerDeliveredEvent, 4),
      ]),
    ),
  );
  p();
  p(
    "A connect costs the reads of resolving the resume point (`retained()`: one strongly consistent GetItem of the channel head). Each Lambda session polls on its own, so its cost is per connection; the Node adapter's pollers are per channel, so its cost per connection falls as subscribers are added.",
  );
  p();
}
