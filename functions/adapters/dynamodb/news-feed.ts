/**
 * The feed of a server holding many channels, as both such hosts build it (the Web
 * Function entry and the local stack): one `SharedFeed` over the event log and, with the
 * change index configured, a `ChangeWatcher` that nudges it, each channel's own poll
 * then being only the safety net for a missed entry.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ChangeIndexConfig } from '../../config/change-index-config.js';
import { ChangeWatcher } from '../../core/change-index.js';
import type { EventLog } from '../../core/event-log.js';
import type { Log } from '../../core/log.js';
import { SharedFeed } from '../../core/shared-feed.js';
import { DynamoDBChangeIndex } from './change-index.js';

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
  /** Stops the watcher, then the feed's pollers. */
  close(): void;
}

export function startNewsFeed(options: NewsFeedOptions): NewsFeed {
  const { changeIndex, log } = options;
  const feed = new SharedFeed(options.eventLog, {
    interval:
      changeIndex === undefined
        ? options.poll
        : { minMs: changeIndex.safetyPollMs, maxMs: changeIndex.safetyPollMs },
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
          interval: { minMs: changeIndex.pollMinMs, maxMs: changeIndex.pollMaxMs },
          onError: (error) => log.error('change index read failed', { error: String(error) }),
        });
  watcher?.start();
  return {
    feed,
    close: () => {
      watcher?.stop();
      feed.close();
    },
  };
}
