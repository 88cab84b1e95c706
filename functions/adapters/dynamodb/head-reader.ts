/**
 * The channels' heads for the safety sweep: one `BatchGetItem` of up to 100 head items
 * (sort key HEAD_POSITION, attribute `last`), eventually consistent. A lagging replica
 * only makes a head look older, which the next round or the change index makes up for,
 * and a nudge with a head the log does not show yet reads again consistently
 * (`SharedFeed`). Keys DynamoDB leaves unprocessed (throttling) are asked again a few
 * times, then left to the next round.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { HEADS_PER_READ, type HeadReader } from '../../core/safety-sweep.js';
import { ATTR, numberOf } from './item-codec.js';
import { HEAD_POSITION } from './table.js';

/** Further requests for keys left unprocessed, with these pauses before them. */
const UNPROCESSED_RETRY_MS = [50, 200] as const;

export interface DynamoDBHeadReaderOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

export class DynamoDBHeadReader implements HeadReader {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: DynamoDBHeadReaderOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#sleep =
      options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
  }

  async heads(channels: readonly string[]): Promise<ReadonlyMap<string, number>> {
    // BatchGetItem refuses a request that names one key twice.
    const unique = [...new Set(channels)];
    if (unique.length > HEADS_PER_READ) {
      throw new RangeError(
        `heads() takes at most ${HEADS_PER_READ} channels per call, got ${unique.length}`,
      );
    }
    const heads = new Map<string, number>();
    let keys: Record<string, AttributeValue>[] = unique.map((channel) => ({
      [ATTR.pk]: { S: channel },
      [ATTR.sk]: { N: String(HEAD_POSITION) },
    }));
    for (let attempt = 0; keys.length > 0; attempt++) {
      const { Responses, UnprocessedKeys } = await this.#client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [this.#tableName]: {
              Keys: keys,
              ProjectionExpression: '#pk, #last',
              ExpressionAttributeNames: { '#pk': ATTR.pk, '#last': ATTR.last },
            },
          },
        }),
      );
      for (const item of Responses?.[this.#tableName] ?? []) {
        const channel = item[ATTR.pk]?.S;
        if (channel !== undefined) heads.set(channel, numberOf(item, ATTR.last));
      }
      keys = UnprocessedKeys?.[this.#tableName]?.Keys ?? [];
      const pause = UNPROCESSED_RETRY_MS[attempt];
      if (keys.length === 0 || pause === undefined) break;
      await this.#sleep(pause);
    }
    return heads;
  }
}
