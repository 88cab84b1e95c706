import { describe, expect, it } from 'vitest';
import type { RetainedRange } from '../../../../functions/core/event-log.js';
import { resolveStart } from '../../../../functions/core/resume.js';

const ranges = (entries: Record<string, RetainedRange>) => new Map(Object.entries(entries));

describe('Function: resolveStart', () => {
  const log = ranges({ a: { first: 5, last: 10 }, b: { first: 1, last: 0 } });

  it('starts at the newest event for latest', () => {
    const start = resolveStart(['a', 'b'], { kind: 'latest' }, log);
    expect([...start.positions]).toEqual([
      ['a', 10],
      ['b', 0],
    ]);
    expect(start.resets).toEqual([]);
  });

  it('starts before the oldest retained event for earliest, without a reset', () => {
    const start = resolveStart(['a'], { kind: 'earliest' }, log);
    expect(start.positions.get('a')).toBe(4);
    expect(start.resets).toEqual([]);
  });

  it('resumes exactly at a cursor inside the retained range, at both edges', () => {
    for (const position of [4, 7, 10]) {
      const start = resolveStart(
        ['a'],
        { kind: 'cursor', positions: new Map([['a', position]]) },
        log,
      );
      expect(start.positions.get('a')).toBe(position);
      expect(start.resets).toEqual([]);
    }
  });

  it('resets an expired cursor to the oldest retained event and counts what was missed', () => {
    const start = resolveStart(['a'], { kind: 'cursor', positions: new Map([['a', 1]]) }, log);
    expect(start.positions.get('a')).toBe(4);
    expect(start.resets).toEqual([{ channel: 'a', reason: 'expired', missed: 3 }]);
  });

  it('resets a cursor ahead of the log to the newest event', () => {
    const start = resolveStart(['a'], { kind: 'cursor', positions: new Map([['a', 11]]) }, log);
    expect(start.positions.get('a')).toBe(10);
    expect(start.resets).toEqual([{ channel: 'a', reason: 'ahead' }]);
  });

  it('starts a channel the cursor does not name at latest and ignores extra channels', () => {
    const cursor = {
      kind: 'cursor' as const,
      positions: new Map([
        ['a', 6],
        ['zzz', 3],
      ]),
    };
    const start = resolveStart(['a', 'b'], cursor, log);
    expect([...start.positions]).toEqual([
      ['a', 6],
      ['b', 0],
    ]);
    expect(start.resets).toEqual([]);
  });
});
