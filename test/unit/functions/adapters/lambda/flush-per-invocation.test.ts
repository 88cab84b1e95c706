import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushPerInvocation } from '../../../../../functions/adapters/lambda/flush-per-invocation.js';

const context = { awsRequestId: 'req', getRemainingTimeInMillis: () => 60_000 };

describe('Function: flushPerInvocation', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('flushes every interval while the invocation runs, once at its end, and not after', async () => {
    vi.useFakeTimers();
    const flushes: number[] = [];
    let finish = () => {};
    const handler = flushPerInvocation(
      () => new Promise<void>((resolve) => (finish = resolve)),
      () => flushes.push(Date.now()),
      60_000,
    );
    const started = Date.now();

    const done = handler({}, new PassThrough(), context);
    await vi.advanceTimersByTimeAsync(150_000);
    finish();
    await done;
    await vi.advanceTimersByTimeAsync(300_000);

    expect(flushes.map((at) => at - started)).toEqual([60_000, 120_000, 150_000]);
  });

  it('flushes when the handler fails, and lets its error through', async () => {
    let flushed = 0;
    const handler = flushPerInvocation(
      async () => {
        throw new Error('stream failed');
      },
      () => {
        flushed += 1;
      },
      60_000,
    );

    await expect(handler({}, new PassThrough(), context)).rejects.toThrow('stream failed');
    expect(flushed).toBe(1);
  });
});
