/**
 * The local SNS service in one call: the outbox table on DynamoDB (created if missing),
 * the deliverer (started, so it first drains what the last run left) and the `POST /sns`
 * endpoint.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Log } from '../../functions/core/log.js';
import { DEFAULT_LOCAL_TOPIC_ARN } from '../defaults.js';
import { type Deliver, Deliverer, type DelivererOptions } from './deliverer.js';
import { OutboxIds } from './outbox-ids.js';
import { OutboxTable } from './outbox-store.js';
import { createSnsEndpoint, type SnsEndpoint } from './sns-endpoint.js';
import { parseTopicArn } from './validate.js';

export interface LocalSnsOptions {
  readonly client: DynamoDBClient;
  /** The outbox table, e.g. `<prefix>-outbox`; created if missing. */
  readonly tableName: string;
  /** @default {@link DEFAULT_LOCAL_TOPIC_ARN} */
  readonly topicArn?: string | undefined;
  /** FIFO topics only. @default false */
  readonly contentBasedDeduplication?: boolean | undefined;
  /** The writer: `(records) => processBatch(records, deps)`. */
  readonly deliver: Deliver;
  readonly log?: Log | undefined;
  /** @default 10 */
  readonly batchSize?: number | undefined;
  /** Tuning for tests: retry pacing, safety poll, clock. */
  readonly deliverer?: Omit<DelivererOptions, 'outbox' | 'deliver' | 'log' | 'batchSize'>;
}

export interface LocalSns {
  readonly topicArn: string;
  /** The `POST /sns` (and `/sns/`) request listener. */
  readonly handle: SnsEndpoint;
  readonly outbox: OutboxTable;
  readonly deliverer: Deliverer;
  /** Resolves once the outbox has been found empty: everything published so far is delivered. */
  drained(): Promise<void>;
  /** Stops delivering; undelivered messages wait in the outbox for the next start. */
  stop(): Promise<void>;
}

export async function startLocalSns(options: LocalSnsOptions): Promise<LocalSns> {
  const topicArn = options.topicArn ?? DEFAULT_LOCAL_TOPIC_ARN;
  if (parseTopicArn(topicArn) === undefined) {
    throw new Error(
      `topic ARN ${JSON.stringify(topicArn)} is not an SNS topic ARN (arn:aws:sns:<region>:<12-digit account>:<name>)`,
    );
  }
  const outbox = new OutboxTable({ client: options.client, tableName: options.tableName });
  await outbox.ensure();
  const ids = new OutboxIds();
  const leftover = await outbox.lastId();
  if (leftover !== undefined) ids.observe(leftover);

  const deliverer = new Deliverer({
    ...options.deliverer,
    outbox,
    deliver: options.deliver,
    ...(options.log !== undefined && { log: options.log }),
    ...(options.batchSize !== undefined && { batchSize: options.batchSize }),
  });
  deliverer.start();
  const handle = createSnsEndpoint({
    topicArn,
    contentBasedDeduplication: options.contentBasedDeduplication,
    outbox,
    deliverer,
    ids,
    ...(options.log !== undefined && { log: options.log }),
  });
  return {
    topicArn,
    handle,
    outbox,
    deliverer,
    drained: () => deliverer.drained(),
    stop: () => deliverer.stop(),
  };
}
