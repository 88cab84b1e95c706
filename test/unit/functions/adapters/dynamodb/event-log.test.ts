import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  type CancellationReason,
  DeleteItemCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  QueryCommand,
  ThrottlingException,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoDBEventLog } from '../../../../../functions/adapters/dynamodb/event-log.js';
import { dedupeMarkerKey } from '../../../../../functions/adapters/dynamodb/table.js';
import type { Sleep } from '../../../../../functions/core/backoff.js';
import {
  AppendFailedError,
  type EventLog,
  type NewEvent,
  type StoredEvent,
} from '../../../../../functions/core/event-log.js';
import {
  describeEventLogContract,
  ManualClock,
  readAll,
} from '../../../../contract/event-log-contract.js';
import { createEventLogTable, localDynamoClient } from '../../../../support/dynamodb.js';

const RETENTION_MS = 60_000;

let local: DynamoDBClient;
let tableName: string;

beforeAll(async () => {
  local = localDynamoClient();
  tableName = await createEventLogTable(local);
});

afterAll(() => {
  local.destroy();
});

afterEach(() => {
  vi.restoreAllMocks();
});

// 20 writers racing for one head on DynamoDB Local lose many rounds each (measured:
// about 4.4 transactions per 10-event append on average, 44-48 at worst), so the suite
// allows many attempts and backs off long enough to spread the writers out.
describeEventLogContract(
  'DynamoDBEventLog on DynamoDB Local',
  (options) =>
    new DynamoDBEventLog({
      client: local,
      tableName,
      ...options,
      maxAttempts: 200,
      backoff: { baseMs: 10, capMs: 400 },
    }),
);

function events(count: number, prefix = 'e'): NewEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    event: 'message',
    data: `${prefix}-${i + 1}`,
    dedupeKey: `${prefix}-${i + 1}-${randomUUID()}`,
  }));
}

function positions(stored: readonly StoredEvent[]): number[] {
  return stored.map((e) => e.position);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function offlineClient(): DynamoDBClient {
  return new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

/** What the next TransactWriteItems call does instead of simply reaching DynamoDB Local. */
type Fault = Error | { readonly afterCommit: Error };

/**
 * A client that forwards every call to DynamoDB Local, except that the next
 * TransactWriteItems calls suffer the queued faults. The mock records every call.
 */
function localWithFaults(): {
  client: DynamoDBClient;
  mock: AwsClientStub<DynamoDBClient>;
  faults: (Fault | undefined)[];
} {
  const client = offlineClient();
  const mock = mockClient(client);
  const faults: (Fault | undefined)[] = [];
  mock.on(GetItemCommand).callsFake((input) => local.send(new GetItemCommand(input)));
  mock.on(QueryCommand).callsFake((input) => local.send(new QueryCommand(input)));
  mock.on(TransactWriteItemsCommand).callsFake(async (input) => {
    const fault = faults.shift();
    if (fault instanceof Error) throw fault;
    const output = await local.send(new TransactWriteItemsCommand(input));
    if (fault !== undefined) throw fault.afterCommit;
    return output;
  });
  return { client, mock, faults };
}

function throttled(): ThrottlingException {
  return new ThrottlingException({ message: 'Rate exceeded', $metadata: {} });
}

function cancelled(reasons: CancellationReason[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: reasons,
  });
}

function transactInputs(mock: AwsClientStub<DynamoDBClient>): TransactWriteItemsCommandInput[] {
  return mock.commandCalls(TransactWriteItemsCommand).map((call) => call.args[0].input);
}

function headItem(channel: string, last: number, lastTime: number): Record<string, AttributeValue> {
  return {
    channel: { S: channel },
    position: { N: '0' },
    last: { N: String(last) },
    lastTime: { N: String(lastTime) },
  };
}

function eventItem(
  channel: string,
  position: number,
  time: number,
): Record<string, AttributeValue> {
  return {
    channel: { S: channel },
    position: { N: String(position) },
    event: { S: 'message' },
    data: { S: `d${position}` },
    time: { N: String(time) },
    expiresAt: { N: String(time + RETENTION_MS) },
    ttl: { N: String(Math.ceil((time + RETENTION_MS) / 1000)) },
  };
}

/** What DynamoDB's TTL process does, some time after an item expired. */
async function deleteAsTtlWould(channel: string, from: number, to: number): Promise<void> {
  for (const position of range(from, to)) {
    await local.send(
      new DeleteItemCommand({
        TableName: tableName,
        Key: { channel: { S: channel }, position: { N: String(position) } },
      }),
    );
  }
}

describe('Class: DynamoDBEventLog', () => {
  let clock: ManualClock;
  let channel: string;
  let sleep: ReturnType<typeof vi.fn<Sleep>>;

  beforeEach(() => {
    clock = new ManualClock();
    channel = `unit/${randomUUID()}`;
    sleep = vi.fn<Sleep>(async () => {});
  });

  function logOn(client: DynamoDBClient, maxAttempts = 10): DynamoDBEventLog {
    return new DynamoDBEventLog({
      client,
      tableName,
      retentionMs: RETENTION_MS,
      clock: clock.read,
      maxAttempts,
      backoff: { baseMs: 100, capMs: 1_000 },
      sleep,
    });
  }

  describe('Method: append', () => {
    it('continues the positions another instance wrote, from a cold cache', async () => {
      // Prepare
      const { client, mock } = localWithFaults();
      const first = logOn(client);
      const second = logOn(local);
      await first.append(channel, events(3, 'a'));

      // Act
      const fromCold = await second.append(channel, events(2, 'b'));
      const fromStale = await first.append(channel, events(1, 'c'));

      // Assess
      expect(fromCold).toEqual([
        { position: 4, duplicate: false },
        { position: 5, duplicate: false },
      ]);
      expect(fromStale).toEqual([{ position: 6, duplicate: false }]);
      expect(positions(await readAll(second, channel))).toEqual(range(1, 6));
      expect((await readAll(second, channel)).map((e) => e.data)).toEqual([
        'a-1',
        'a-2',
        'a-3',
        'b-1',
        'b-2',
        'c-1',
      ]);
      // The first instance read the head once (cold); its stale cached head then lost the
      // race, and the head returned with the failed condition served the retry.
      expect(mock.commandCalls(GetItemCommand)).toHaveLength(1);
      expect(transactInputs(mock)).toHaveLength(3);
      expect(sleep).not.toHaveBeenCalled();
    });

    it('retries with the head a failed condition returned, without reading it again', async () => {
      // Prepare
      const client = offlineClient();
      const mock = mockClient(client);
      const t = clock.now;
      mock.on(GetItemCommand).resolves({ Item: headItem(channel, 5, t - 1_000) });
      mock
        .on(TransactWriteItemsCommand)
        .rejectsOnce(
          cancelled([
            { Code: 'ConditionalCheckFailed', Item: headItem(channel, 8, t + 2_000) },
            { Code: 'ConditionalCheckFailed' },
            { Code: 'None' },
          ]),
        )
        .resolves({});

      // Act
      const outcomes = await logOn(client).append(channel, events(1));

      // Assess
      expect(outcomes).toEqual([{ position: 9, duplicate: false }]);
      expect(mock.commandCalls(GetItemCommand)).toHaveLength(1);
      const [firstTry, retry] = transactInputs(mock);
      expect(
        firstTry?.TransactItems?.[0]?.Update?.ExpressionAttributeValues?.[':expected'],
      ).toEqual({ N: '5' });
      const head = retry?.TransactItems?.[0]?.Update;
      expect(head?.ConditionExpression).toBe('#last = :expected');
      expect(head?.ExpressionAttributeValues).toEqual({
        ':expected': { N: '8' },
        ':last': { N: '9' },
        ':lastTime': { N: String(t + 2_000) },
      });
      const event = retry?.TransactItems?.[1]?.Put?.Item;
      expect(event?.position).toEqual({ N: '9' });
      // Never earlier than the newest event on the channel, even though our clock lags.
      expect(event?.time).toEqual({ N: String(t + 2_000) });
      expect(sleep).not.toHaveBeenCalled();
    });

    it('retries throttling and server errors with backoff, storing the events once', async () => {
      // Prepare
      vi.spyOn(Math, 'random').mockReturnValue(0.5);
      const { client, mock, faults } = localWithFaults();
      faults.push(
        throttled(),
        new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }),
        new InternalServerError({ message: 'oops', $metadata: { httpStatusCode: 500 } }),
      );
      const log = logOn(client);

      // Act
      const outcomes = await log.append(channel, events(2));

      // Assess
      expect(outcomes).toEqual([
        { position: 1, duplicate: false },
        { position: 2, duplicate: false },
      ]);
      expect(transactInputs(mock)).toHaveLength(4);
      // Full jitter with random() = 0.5: half of 100, 200, 400 ms.
      expect(sleep.mock.calls).toEqual([[50], [100], [200]]);
      expect(positions(await readAll(log, channel))).toEqual([1, 2]);
      expect(await log.append(channel, events(1, 'next'))).toEqual([
        { position: 3, duplicate: false },
      ]);
    });

    it('retries a transaction cancelled by a TransactionConflict', async () => {
      // Prepare
      const { client, mock, faults } = localWithFaults();
      faults.push(cancelled([{ Code: 'None' }, { Code: 'TransactionConflict' }, { Code: 'None' }]));
      const log = logOn(client);

      // Act
      const outcomes = await log.append(channel, events(1));

      // Assess
      expect(outcomes).toEqual([{ position: 1, duplicate: false }]);
      expect(transactInputs(mock)).toHaveLength(2);
      expect(sleep).toHaveBeenCalledTimes(1);
      expect(positions(await readAll(log, channel))).toEqual([1]);
    });

    it('gives up after maxAttempts, saying how many leading events were stored', async () => {
      // Prepare: 60 events take two transactions (49 + 11); only the first gets through.
      const { client, mock, faults } = localWithFaults();
      const cause = throttled();
      faults.push(undefined, cause, cause, cause);
      const batch = events(60);

      // Act
      const error = await logOn(client, 3)
        .append(channel, batch)
        .catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(AppendFailedError);
      expect(error).toMatchObject({ channel, stored: 49, cause });
      expect(transactInputs(mock)).toHaveLength(4);
      expect(sleep).toHaveBeenCalledTimes(2);
      const fresh = logOn(local);
      expect(positions(await readAll(fresh, channel))).toEqual(range(1, 49));

      // Appending everything again is safe: the stored prefix is recognised.
      const again = await fresh.append(channel, batch);
      expect(again.slice(0, 49)).toEqual(
        range(1, 49).map((p) => ({ position: p, duplicate: true })),
      );
      expect(again.slice(49)).toEqual(
        range(50, 60).map((p) => ({ position: p, duplicate: false })),
      );
      expect((await readAll(fresh, channel)).map((e) => e.data)).toEqual(batch.map((e) => e.data));
    });

    it.each([
      [
        'a validation error',
        new DynamoDBServiceException({
          name: 'ValidationException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
          message: 'Item size has exceeded the maximum allowed size',
        }),
      ],
      ['a cancellation for a validation error', cancelled([{ Code: 'ValidationError' }])],
    ])('does not retry %s', async (_, fault) => {
      // Prepare
      const { client, mock, faults } = localWithFaults();
      faults.push(fault);

      // Act
      const error = await logOn(client)
        .append(channel, events(2))
        .catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(AppendFailedError);
      expect(error).toMatchObject({ stored: 0, cause: fault });
      expect(transactInputs(mock)).toHaveLength(1);
      expect(sleep).not.toHaveBeenCalled();
      expect(await readAll(logOn(local), channel)).toEqual([]);
    });

    it('is safe to retry after an ambiguous failure: nothing is stored twice', async () => {
      // Prepare: the transaction commits, but the answer is lost on the way back.
      const { client, mock, faults } = localWithFaults();
      faults.push({
        afterCommit: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      });
      const log = logOn(client);

      // Act
      const outcomes = await log.append(channel, events(3));

      // Assess: the retry found its own markers, so these are not reported as duplicates.
      expect(outcomes).toEqual([
        { position: 1, duplicate: false },
        { position: 2, duplicate: false },
        { position: 3, duplicate: false },
      ]);
      expect(transactInputs(mock)).toHaveLength(2);
      expect(positions(await readAll(log, channel))).toEqual([1, 2, 3]);
      expect(await log.append(channel, events(1, 'next'))).toEqual([
        { position: 4, duplicate: false },
      ]);
    });

    it('reports a redelivery found during a retry as a duplicate of the original', async () => {
      // Prepare
      const log = logOn(local);
      const original = { event: 'message', data: 'x', dedupeKey: `k-${randomUUID()}` };
      await log.append(channel, [original]);

      // Act
      const outcomes = await log.append(channel, [...events(1, 'before'), original, ...events(1)]);

      // Assess
      expect(outcomes).toEqual([
        { position: 2, duplicate: false },
        { position: 1, duplicate: true },
        { position: 3, duplicate: false },
      ]);
      expect(positions(await readAll(log, channel))).toEqual([1, 2, 3]);
    });

    it('splits appends into transactions of at most 100 items', async () => {
      // Prepare
      const { client, mock } = localWithFaults();

      // Act
      await logOn(client).append(channel, events(130));

      // Assess
      expect(transactInputs(mock).map((input) => input.TransactItems?.length)).toEqual([
        99, 99, 65,
      ]);
    });

    it('splits appends by UTF-8 size so no transaction exceeds 4 MB', async () => {
      // Prepare: 18 × 260,000 bytes (but only 130,000 characters) of payload.
      const { client, mock } = localWithFaults();
      const big = events(18).map((e) => ({ ...e, data: 'é'.repeat(130_000) }));
      const log = logOn(client);

      // Act
      await log.append(channel, big);

      // Assess
      const sizes = transactInputs(mock).map((input) =>
        (input.TransactItems ?? []).reduce(
          (sum, item) => sum + Buffer.byteLength(item.Put?.Item?.data?.S ?? '', 'utf8'),
          0,
        ),
      );
      expect(sizes.length).toBeGreaterThan(1);
      for (const size of sizes) expect(size).toBeLessThan(4 * 1024 * 1024);
      const stored = await readAll(log, channel);
      expect(positions(stored)).toEqual(range(1, 18));
      expect(stored.every((e) => e.data === big[0]?.data)).toBe(true);
    });

    it('writes TTL in epoch seconds, never before the event expires', async () => {
      // Prepare
      clock.now = Date.UTC(2026, 0, 1) + 1_500; // not on a whole second
      const log = logOn(local);
      const [event] = events(1);

      // Act
      await log.append(channel, [event as NewEvent]);

      // Assess
      const expiresAt = clock.now + RETENTION_MS;
      const ttl = String(Math.ceil(expiresAt / 1000));
      const stored = await local.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { channel: { S: channel }, position: { N: '1' } },
          ConsistentRead: true,
        }),
      );
      expect(stored.Item?.expiresAt).toEqual({ N: String(expiresAt) });
      expect(stored.Item?.ttl).toEqual({ N: ttl });
      const marker = await local.send(
        new GetItemCommand({
          TableName: tableName,
          Key: {
            channel: { S: dedupeMarkerKey(channel, event?.dedupeKey ?? '') },
            position: { N: '0' },
          },
          ConsistentRead: true,
        }),
      );
      expect(marker.Item).toMatchObject({ target: { N: '1' }, ttl: { N: ttl } });
    });
  });

  describe('Method: read', () => {
    function queryReturning(...pages: Record<string, AttributeValue>[][]): {
      log: EventLog;
      mock: AwsClientStub<DynamoDBClient>;
    } {
      const client = offlineClient();
      const mock = mockClient(client);
      let stub = mock.on(QueryCommand);
      for (const page of pages) stub = stub.resolvesOnce({ Items: page }) as typeof stub;
      return { log: logOn(client), mock };
    }

    it('re-reads consistently when an eventually consistent page shows a gap', async () => {
      // Prepare
      const t = clock.now;
      const { log, mock } = queryReturning(
        [eventItem(channel, 1, t), eventItem(channel, 2, t), eventItem(channel, 4, t)],
        [1, 2, 3, 4].map((p) => eventItem(channel, p, t)),
      );

      // Act
      const page = await log.read(channel, 0);

      // Assess
      expect(positions(page)).toEqual([1, 2, 3, 4]);
      expect(mock.commandCalls(QueryCommand).map((c) => c.args[0].input.ConsistentRead)).toEqual([
        false,
        true,
      ]);
    });

    it('returns only the contiguous run, even if a consistent read shows a gap', async () => {
      // Prepare
      const t = clock.now;
      const page = [eventItem(channel, 1, t), eventItem(channel, 2, t), eventItem(channel, 4, t)];
      const { log } = queryReturning(page, page);

      // Act & Assess
      expect(positions(await log.read(channel, 0))).toEqual([1, 2]);
    });

    it('queries forwards from the position after the cursor, with the page limit', async () => {
      // Prepare
      const { log, mock } = queryReturning([eventItem(channel, 8, clock.now)]);

      // Act
      const page = await log.read(channel, 7, { limit: 5 });

      // Assess
      expect(page).toEqual([
        { channel, position: 8, event: 'message', data: 'd8', time: clock.now },
      ]);
      expect(mock.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
        KeyConditionExpression: '#pk = :channel AND #sk > :after',
        ExpressionAttributeValues: { ':channel': { S: channel }, ':after': { N: '7' } },
        ScanIndexForward: true,
        Limit: 5,
        ConsistentRead: false,
      });
    });

    it('starts at the first retained event once TTL has deleted the expired ones', async () => {
      // Prepare
      const { client, mock } = localWithFaults();
      const log = logOn(client);
      await log.append(channel, events(5, 'old'));
      clock.advance(RETENTION_MS / 2);
      await log.append(channel, events(3, 'new'));
      clock.advance(RETENTION_MS / 2);
      await deleteAsTtlWould(channel, 1, 5);

      // Act
      const page = await log.read(channel, 0);

      // Assess
      expect(positions(page)).toEqual([6, 7, 8]);
      // The leading gap could have been replica lag, so it was confirmed consistently.
      expect(mock.commandCalls(QueryCommand).map((c) => c.args[0].input.ConsistentRead)).toEqual([
        false,
        true,
      ]);
    });

    it('jumps over a long expired prefix with a bounded number of reads', async () => {
      // Prepare: TTL has deleted some expired events, not all.
      const { client, mock } = localWithFaults();
      const log = logOn(client);
      await log.append(channel, events(300, 'old'));
      clock.advance(RETENTION_MS / 2);
      await log.append(channel, events(5, 'new'));
      clock.advance(RETENTION_MS / 2);
      await deleteAsTtlWould(channel, 1, 20);
      await deleteAsTtlWould(channel, 150, 160);
      mock.resetHistory();

      // Act
      const page = await log.read(channel, 0, { limit: 10 });

      // Assess
      expect(positions(page)).toEqual(range(301, 305));
      expect(mock.commandCalls(QueryCommand)).toHaveLength(2);
      // Head, both ends, then a binary search: 3 + ceil(log2(305)).
      expect(mock.commandCalls(GetItemCommand).length).toBeLessThanOrEqual(12);
    });
  });

  describe('Method: retained', () => {
    it('finds the first retained position in O(log n) consistent reads', async () => {
      // Prepare
      const { client, mock } = localWithFaults();
      const log = logOn(client);
      await log.append(channel, events(300, 'old'));
      clock.advance(RETENTION_MS / 2);
      await log.append(channel, events(5, 'new'));
      clock.advance(RETENTION_MS / 2);
      await deleteAsTtlWould(channel, 1, 100);
      await deleteAsTtlWould(channel, 290, 295);
      mock.resetHistory();

      // Act
      const retained = await log.retained(channel);

      // Assess
      expect(retained).toEqual({ first: 301, last: 305 });
      const reads = mock.commandCalls(GetItemCommand).map((c) => c.args[0].input);
      expect(reads.length).toBeLessThanOrEqual(12);
      expect(reads.every((input) => input.ConsistentRead === true)).toBe(true);
    });

    it('is empty after the last position once everything expired, even if deleted', async () => {
      // Prepare
      const log = logOn(local);
      await log.append(channel, events(3));
      clock.advance(RETENTION_MS);
      await deleteAsTtlWould(channel, 3, 3);

      // Act & Assess
      expect(await log.retained(channel)).toEqual({ first: 4, last: 3 });
    });
  });
});
