/**
 * The feed of a server holding many channels, as both such hosts build it (the Web
 * Function entry and the local stack): one `SharedFeed` over the event log and, with the
 * change index configured, a `ChangeWatcher` that nudges it and a `SafetySweep` that
 * checks every held channel's head in batches, the safety net for a missed entry. Each
 * channel's own poll is then only the last resort (every
 * {@link CHANNEL_BACKSTOP_FACTOR} sweep intervals), for a sweep that keeps failing.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ChangeIndexConfig } from '../../config/change-index-config.js';
import { ChangeWatcher } from '../../core/change-index.js';
import type { EventLog } from '../../core/event-log.js';
import type { Log } from '../../core/log.js';
import { SafetySweep } from '../../core/safety-sweep.js';
import { SharedFeed } from '../../core/shared-feed.js';
import { DynamoDBChangeIndex } from './change-index.js';
import { DynamoDBHeadReader } from './head-reader.js';

/**
 * With the index on, a channel polls on its own once per this many sweep intervals
 * (10 minutes at the default 120 s): only a sweep that fails round after round (a
 * missing `dynamodb:BatchGetItem` permission, say) leaves it to that.
 */
export const CHANNEL_BACKSTOP_FACTOR = 5;

export interface NewsFeedOptions {
  readonly eventLog: EventLog;
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** The channels' poll interval without the index. */
  readonly poll: { readonly minMs: number; readonly maxMs: number };
  readonly retentionMs: number;
  /** `readChangeIndexConfig`; undefined: no index, channels poll at `poll`. */
  readonly changeIndex: ChangeIndexConfig | undefined;
  readonly log: Log;
}

export interface NewsFeed {
  readonly feed: SharedFeed;
  /** With the change index only (tests, metrics). */
  readonly watcher: ChangeWatcher | undefined;
  readonly sweep: SafetySweep | undefined;
  /** Stops the sweep and the watcher, then the feed's pollers. */
  close(): void;
}

export function startNewsFeed(options: NewsFeedOptions): NewsFeed {
  const { changeIndex, log } = options;
  const feed = new SharedFeed(options.eventLog, {
    interval:
      changeIndex === undefined
        ? options.poll
        : {
            minMs: changeIndex.safetyPollMs * CHANNEL_BACKSTOP_FACTOR,
            maxMs: changeIndex.safetyPollMs * CHANNEL_BACKSTOP_FACTOR,
          },
    retentionMs: options.retentionMs,
    onError: (error, channel) =>
      log.error('event log read failed', { channel, error: String(error) }),
  });
  const watcher =
    changeIndex === undefined
      ? undefined
      : new ChangeWatcher({
          reader: new DynamoDBChangeIndex({
            client: options.client,
            tableName: options.tableName,
            shards: changeIndex.shards,
          }),
          onChange: (channel, head) => feed.nudge(channel, head),
          // Nobody to tell: an environment without streams reads nothing.
          active: () => feed.activeChannels > 0,
          interval: { minMs: changeIndex.pollMinMs, maxMs: changeIndex.pollMaxMs },
          onError: (error) => log.error('change index read failed', { error: String(error) }),
        });
  const sweep =
    changeIndex === undefined
      ? undefined
      : new SafetySweep({
          reader: new DynamoDBHeadReader({ client: options.client, tableName: options.tableName }),
          feed,
          intervalMs: changeIndex.safetyPollMs,
          onError: (error) => log.error('safety sweep failed', { error: String(error) }),
        });
  watcher?.start();
  sweep?.start();
  return {
    feed,
    watcher,
    sweep,
    close: () => {
      sweep?.stop();
      watcher?.stop();
      feed.close();
    },
  };
}
