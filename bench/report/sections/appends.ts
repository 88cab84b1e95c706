/** The "Append throughput" section: DynamoDBEventLog.append rates and what the read-back found. */
import { round } from '../../lib/stats.js';
import { type Emit, table } from '../format.js';
import type { BenchResults } from '../types.js';

export function appendsSection(p: Emit, r: BenchResults): void {
  p('## Append throughput (DynamoDBEventLog on DynamoDB Local)');
  p();
  p(
    `\`DynamoDBEventLog.append\` called directly (no SNS, no writer Lambda), payloads of ${r.appends[0]?.payloadBytes ?? '?'} bytes, each event with its own dedupe key; writers take batches from a shared counter until the event count or the time cap is reached. ` +
      'Afterwards every channel is read back with strongly consistent queries: positions must run 1..n with no gap, every acknowledged event must be there exactly once, at the position its append reported. ' +
      'Then the first batch of channel 0 is appended again (a redelivery): every event must come back as a duplicate at its original position, and nothing may be stored.',
  );
  p();
  p(
    table(
      [
        'Case',
        'Events',
        'Seconds',
        'Events/s',
        'Transactions (cancelled)',
        'WCU/event',
        'Lost',
        'Dup',
        'Gaps',
        'Redelivery: dup / same pos / stored',
      ],
      r.appends.map((a) => [
        a.name,
        a.appended,
        round(a.seconds, 2),
        Math.round(a.eventsPerSecond),
        `${a.transactions} (${a.cancelledTransactions})`,
        round(a.writeUnitsPerEvent, 2),
        a.lost,
        a.duplicated,
        a.gaps + a.misplaced,
        `${a.redelivery.reportedDuplicate}/${a.redelivery.sent} / ${a.redelivery.samePosition} / ${a.redelivery.storedAgain}`,
      ]),
    ),
  );
  p();
  p(
    "WCU are computed from each committed transaction's items by AWS's rule (2 units per started KB per item in a transaction; DynamoDB Local's own figures for transactions are too low); cancelled transactions are not included (AWS bills them too: docs/event-log.md). " +
      'Several writers on one channel serialise on the head item, so they add cancelled transactions rather than throughput.',
  );
  p();
}
