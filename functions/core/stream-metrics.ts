/**
 * What the subscribe routes count, as the routes name it: the hosts bind it to
 * embedded metrics (adapters/powertools/stream-metrics.ts); tests and the local stack
 * use {@link NO_STREAM_METRICS} or a recorder of their own. Every method must be cheap
 * and must not throw: they run on the delivery path.
 */
import type { Reset } from './resume.js';
import type { StopReason } from './stream-session.js';

/** Why a stream ended: a session's own reason, or `failed` (it threw after its first byte). */
export type StreamEndReason = StopReason | 'failed';

export interface StreamMetrics {
  streamOpened(channels: readonly string[]): void;
  streamEnded(channels: readonly string[], reason: StreamEndReason): void;
  /** See `SessionObserver.delivered` (stream-session.ts) for `lagMs`. */
  delivered(channel: string, lagMs: number | undefined): void;
  reset(reset: Reset): void;
  /**
   * A request answered with an error status (`code` is the JSON error's code). No
   * channel: a refused request's channels are whatever its sender made up.
   */
  refused(status: number, code: string): void;
}

export const NO_STREAM_METRICS: StreamMetrics = {
  streamOpened: () => {},
  streamEnded: () => {},
  delivered: () => {},
  reset: () => {},
  refused: () => {},
};
