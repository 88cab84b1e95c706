import { describe, expect, it } from 'vitest';
import { stopTime } from '../../../../functions/core/stop-time.js';

describe('Function: stopTime', () => {
  const base = { now: 0, lifetimeMs: 300_000, jitter: 0.2 };

  it('cuts up to the jitter share off the lifetime', () => {
    expect(stopTime({ ...base, random: () => 0 })).toEqual({ at: 300_000, cause: 'lifetime' });
    expect(stopTime({ ...base, random: () => 1 })).toEqual({ at: 240_000, cause: 'lifetime' });
  });

  it('ends before the deadline margin and before the token expires, and says which', () => {
    const random = () => 0;
    expect(stopTime({ ...base, random, deadline: 100_000, deadlineMarginMs: 10_000 })).toEqual({
      at: 90_000,
      cause: 'deadline',
    });
    expect(stopTime({ ...base, random, notAfter: 50_000 })).toEqual({
      at: 50_000,
      cause: 'token',
    });
    expect(
      stopTime({ ...base, random, deadline: 100_000, deadlineMarginMs: 10_000, notAfter: 95_000 }),
    ).toEqual({ at: 90_000, cause: 'deadline' });
  });

  it('keeps the lifetime as the cause when the others come later', () => {
    expect(stopTime({ ...base, random: () => 0, deadline: 900_000, notAfter: 600_000 })).toEqual({
      at: 300_000,
      cause: 'lifetime',
    });
  });
});
