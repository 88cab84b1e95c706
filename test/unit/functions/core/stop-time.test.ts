import { describe, expect, it } from 'vitest';
import { stopTime } from '../../../../functions/core/stop-time.js';

describe('Function: stopTime', () => {
  const base = { now: 0, lifetimeMs: 300_000, jitter: 0.2 };

  it('cuts up to the jitter share off the lifetime', () => {
    expect(stopTime({ ...base, random: () => 0 })).toBe(300_000);
    expect(stopTime({ ...base, random: () => 1 })).toBe(240_000);
  });

  it('ends before the deadline margin and before the token expires', () => {
    const random = () => 0;
    expect(stopTime({ ...base, random, deadline: 100_000, deadlineMarginMs: 10_000 })).toBe(90_000);
    expect(stopTime({ ...base, random, notAfter: 50_000 })).toBe(50_000);
  });
});
