import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  backoffCeiling,
  backoffDelay,
  DEFAULT_BACKOFF,
  sleep,
} from '../../../../functions/core/backoff.js';

describe('Function: backoffCeiling', () => {
  it('doubles from the base with each retry', () => {
    const options = { baseMs: 10, capMs: 10_000 };
    expect([1, 2, 3, 4, 5].map((retry) => backoffCeiling(retry, options))).toEqual([
      10, 20, 40, 80, 160,
    ]);
  });

  it('never exceeds the cap, however many retries', () => {
    const options = { baseMs: 10, capMs: 500 };
    expect(backoffCeiling(6, options)).toBe(320);
    expect(backoffCeiling(7, options)).toBe(500);
    expect(backoffCeiling(5_000, options)).toBe(500);
  });

  it('refuses retry numbers and options that make no sense', () => {
    expect(() => backoffCeiling(0)).toThrow(RangeError);
    expect(() => backoffCeiling(1.5)).toThrow(RangeError);
    expect(() => backoffCeiling(1, { baseMs: -1, capMs: 10 })).toThrow(RangeError);
    expect(() => backoffCeiling(1, { baseMs: 1, capMs: Number.NaN })).toThrow(RangeError);
  });
});

describe('Function: backoffDelay', () => {
  const options = { baseMs: 100, capMs: 1_000 };

  it('spreads the wait uniformly between 0 and the ceiling (full jitter)', () => {
    expect(backoffDelay(3, options, () => 0)).toBe(0);
    expect(backoffDelay(3, options, () => 0.5)).toBe(200);
    expect(backoffDelay(3, options, () => 0.999_999)).toBe(400);
    expect(backoffDelay(10, options, () => 0.25)).toBe(250);
  });

  it('stays within bounds with the default random source', () => {
    for (let retry = 1; retry <= 12; retry++) {
      const delay = backoffDelay(retry);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(backoffCeiling(retry, DEFAULT_BACKOFF));
      expect(Number.isInteger(delay)).toBe(true);
    }
  });
});

describe('Function: sleep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves once the time has passed, and not before', async () => {
    // Prepare
    vi.useFakeTimers();
    let done = false;

    // Act
    const waiting = sleep(1_000).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(999);

    // Assess
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await waiting;
    expect(done).toBe(true);
  });
});
