import type { ResumePoint } from './cursor.js';
import type { RetainedRange } from './event-log.js';

/**
 * Why a subscription cannot resume where it asked to (DESIGN.md, `stream.reset`):
 * - `expired`: events after the resume point have left retention; delivery goes on
 *   from the oldest retained event, and `missed` says how many were lost;
 * - `ahead`: the resume point is beyond the channel's newest event (a cursor from
 *   another deployment, or a log that was reset); delivery goes on from the newest.
 */
export interface Reset {
  readonly channel: string;
  readonly reason: 'expired' | 'ahead';
  /** Events the subscriber will never see (expired only). */
  readonly missed?: number;
}

export interface StartPoint {
  /** Per channel, the position delivery continues after. */
  readonly positions: Map<string, number>;
  readonly resets: Reset[];
}

/**
 * Turns a resume point into a start position per channel, given each channel's
 * retained range. Pure: the caller reads the ranges.
 *
 * A channel the cursor does not name (one added to the subscription since) starts at
 * the latest event, like a new subscription; a channel the cursor names but the
 * request does not is ignored.
 */
export function resolveStart(
  channels: readonly string[],
  resume: ResumePoint,
  ranges: ReadonlyMap<string, RetainedRange>,
): StartPoint {
  const positions = new Map<string, number>();
  const resets: Reset[] = [];
  for (const channel of channels) {
    const range = ranges.get(channel);
    if (range === undefined) throw new Error(`no retained range for channel ${channel}`);
    const asked =
      resume.kind === 'earliest'
        ? range.first - 1
        : resume.kind === 'cursor'
          ? resume.positions.get(channel)
          : undefined;
    if (asked === undefined) {
      positions.set(channel, range.last);
    } else if (asked > range.last) {
      resets.push({ channel, reason: 'ahead' });
      positions.set(channel, range.last);
    } else if (asked < range.first - 1) {
      resets.push({ channel, reason: 'expired', missed: range.first - 1 - asked });
      positions.set(channel, range.first - 1);
    } else {
      positions.set(channel, asked);
    }
  }
  return { positions, resets };
}
