/**
 * One stream as a function URL invocation runs it, for the bench's simulated Lambda fleet:
 * `runStreamSession` from "latest" on one channel with the deployed defaults, over its own
 * `PollingFeed` (one poller per stream, POLL_MIN_MS → POLL_MAX_MS).
 */
import type { EventLog } from '../../functions/core/event-log.js';
import { PollingFeed } from '../../functions/core/polling-feed.js';
import { runStreamSession, type StreamSummary } from '../../functions/core/stream-session.js';
import { DEFAULT_SUBSCRIBE_CONFIG } from '../../functions/http/subscribe-config.js';

export function runLambdaSession(
  log: EventLog,
  channel: string,
  signal: AbortSignal,
  write: (chunk: string) => void,
): Promise<StreamSummary> {
  const config = DEFAULT_SUBSCRIBE_CONFIG;
  return runStreamSession(
    {
      channels: [channel],
      resume: { kind: 'latest' },
      envelope: false,
      retryMs: config.retryMs,
      heartbeatMs: config.heartbeatMs,
      stopAt: Date.now() + config.lifetimeMs,
      byteBudget: config.byteBudget,
      pageSize: config.pageSize,
      paddingBytes: 0,
    },
    {
      feed: new PollingFeed(log, { minMs: config.pollMinMs, maxMs: config.pollMaxMs }),
      clock: Date.now,
      signal,
      write,
    },
  );
}
