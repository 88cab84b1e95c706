/**
 * The `/poll` transport: reading answers, bounding and stopping a request, the long-poll
 * wait and the pause after an early empty answer; and a subscription that long-polls
 * through failures, driven by a fake clock so that every backoff is seen to the ms.
 */
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../../client/src/clock.js';
import type {
  ClientEvent,
  ConnectionState,
  FetchLike,
  SubscribeError,
} from '../../../../client/src/index.js';
import { subscribeWithClock } from '../../../../client/src/subscribe.js';
import {
  httpFailure,
  longPollWait,
  openPoll,
  type PollAnswer,
  type PollOutcome,
  parsePollAnswer,
  pauseAfterPoll,
} from '../../../../client/src/transports/poll.js';

/** Time that moves only when the test says, firing due timers in order. */
class FakeClock implements Clock {
  #now = Date.parse('2026-11-01T00:00:00Z');
  #order = 0;
  readonly #timers = new Set<{ at: number; order: number; fire: () => void }>();

  now(): number {
    return this.#now;
  }

  timer(ms: number, fire: () => void): () => void {
    const timer = { at: this.#now + ms, order: this.#order++, fire };
    this.#timers.add(timer);
    return () => this.#timers.delete(timer);
  }

  get pending(): number {
    return this.#timers.size;
  }

  /** Moves `ms` on, letting every promise settle after each timer. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    await settle();
    for (;;) {
      const due = [...this.#timers]
        .filter((t) => t.at <= until)
        .sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (due === undefined) break;
      this.#timers.delete(due);
      this.#now = due.at;
      due.fire();
      await settle();
    }
    this.#now = until;
  }
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const event = (n: number): ClientEvent => ({
  id: `1.cursor-${n}`,
  channel: 'c',
  event: 'message',
  data: `event ${n}`,
  time: '2026-11-01T00:00:00.000Z',
});

const EMPTY: PollAnswer = { kind: 'ok', events: [], cursor: '1.a', resets: [] };

/** A fetch that answers only when aborted, as a dead connection would. */
const hangingFetch: FetchLike = (_url, init) =>
  new Promise((_resolve, reject) => {
    init.signal.addEventListener('abort', () => reject(new Error('The operation was aborted')));
  });

describe('Function: parsePollAnswer', () => {
  it('reads events, cursor and resets', () => {
    const body = {
      events: [event(1)],
      cursor: '1.cursor-1',
      resets: [{ channel: 'c', reason: 'expired', missed: 3 }],
    };
    expect(parsePollAnswer(JSON.stringify(body))).toEqual({ kind: 'ok', ...body });
    expect(parsePollAnswer('{"events":[],"cursor":"1.a"}')).toEqual(EMPTY);
  });

  it('calls anything else a protocol failure', () => {
    const failures = [
      '<html>captive portal</html>',
      '{"events":{},"cursor":"1.a"}',
      '{"events":[]}',
      JSON.stringify({ events: [{ ...event(1), data: 1 }], cursor: '1.a' }),
      JSON.stringify({ events: [], cursor: '1.a', resets: [{ channel: 'c' }] }),
    ].map((text) => parsePollAnswer(text));
    expect(failures.map((f) => f.kind)).toEqual(Array(5).fill('protocol'));
    expect(failures.map((f) => (f.kind === 'protocol' ? f.message : ''))).toEqual([
      'the poll answer is not {events, cursor}',
      'the poll answer is not {events, cursor}',
      'the poll answer is not {events, cursor}',
      'a polled event is malformed',
      'a polled reset is malformed',
    ]);
  });
});

describe('Function: httpFailure', () => {
  it("reads the contract's error body, and falls back to the status alone", () => {
    expect(
      httpFailure(400, JSON.stringify({ error: { code: 'malformed_cursor', message: 'bad' } })),
    ).toEqual({ kind: 'http', status: 400, code: 'malformed_cursor', message: 'HTTP 400: bad' });
    expect(httpFailure(502, '<html>Bad Gateway</html>')).toEqual({
      kind: 'http',
      status: 502,
      code: undefined,
      message: 'HTTP 502',
    });
  });
});

describe('Function: openPoll', () => {
  it('reads a 200 as an answer and any other status as an HTTP failure', async () => {
    const clock = new FakeClock();
    const answers = [
      { status: 200, body: '{"events":[],"cursor":"1.a"}' },
      { status: 503, body: '{"error":{"code":"unavailable","message":"later"}}' },
    ];
    const urls: string[] = [];
    const fetch: FetchLike = async (url) => {
      urls.push(url);
      const answer = answers.shift() ?? { status: 500, body: '' };
      return { status: answer.status, text: async () => answer.body };
    };
    const options = { timeoutMs: 1_000, clock };
    expect(await openPoll(fetch, 'https://s.example/poll?a', options).done).toEqual(EMPTY);
    expect(await openPoll(fetch, 'https://s.example/poll?b', options).done).toEqual({
      kind: 'http',
      status: 503,
      code: 'unavailable',
      message: 'HTTP 503: later',
    });
    expect(urls).toEqual(['https://s.example/poll?a', 'https://s.example/poll?b']);
    expect(clock.pending).toBe(0);
  });

  it('abandons a request that has no answer within its timeout, on the clock it is given', async () => {
    const clock = new FakeClock();
    let outcome: PollOutcome | undefined;
    void openPoll(hangingFetch, 'https://s.example/poll', { timeoutMs: 5_000, clock }).done.then(
      (o) => {
        outcome = o;
      },
    );
    await clock.advance(4_999);
    expect(outcome).toBeUndefined();
    await clock.advance(1);
    expect(outcome).toMatchObject({ kind: 'network', message: 'no answer within 5000 ms' });
    expect(clock.pending).toBe(0);
  });

  it('ends at once when stopped, saying why the fetch failed rather than blaming a timeout', async () => {
    const clock = new FakeClock();
    const handle = openPoll(hangingFetch, 'https://s.example/poll', { timeoutMs: 5_000, clock });
    handle.stop();
    expect(await handle.done).toMatchObject({
      kind: 'network',
      message: 'The operation was aborted',
    });
    expect(clock.pending).toBe(0);
  });
});

describe('Function: longPollWait', () => {
  it('answers the first poll at once, then long-polls, never past the next try at streaming', () => {
    expect(longPollWait(undefined, 20, undefined)).toBe(0);
    expect(longPollWait('1.a', 20, undefined)).toBe(20);
    expect(longPollWait('1.a', 20, 7_001)).toBe(8);
    expect(longPollWait('1.a', 20, 60_000)).toBe(20);
    expect(longPollWait('1.a', 20, -5_000)).toBe(0);
    expect(longPollWait(undefined, 20, 60_000)).toBe(0);
  });
});

describe('Function: pauseAfterPoll', () => {
  it('pauses only after an empty long poll that came back early, until a second has passed', () => {
    expect(pauseAfterPoll(EMPTY, 20, 30)).toBe(970);
    expect(pauseAfterPoll(EMPTY, 20, 1_000)).toBe(0);
    expect(pauseAfterPoll(EMPTY, 0, 30)).toBe(0);
    expect(pauseAfterPoll({ ...EMPTY, events: [event(1)] }, 20, 30)).toBe(0);
    expect(
      pauseAfterPoll({ ...EMPTY, resets: [{ channel: 'c', reason: 'expired' }] }, 20, 30),
    ).toBe(0);
  });
});

describe('Function: subscribe (long-polling on a fake clock)', () => {
  it('backs off with full jitter, doubling to the cap, and starts over after an answer', async () => {
    const clock = new FakeClock();
    const startedAt = clock.now();
    /**
     * Per request: `ok` answers with the next event, a number is an error status; once
     * it runs out, requests hang until abandoned.
     */
    const script: ('ok' | number)[] = [503, 503, 503, 503, 503, 503, 'ok', 429, 'ok'];
    const requests: { at: number; cursor: string | null }[] = [];
    let delivered = 0;
    const fetch: FetchLike = async (raw, init) => {
      requests.push({
        at: clock.now() - startedAt,
        cursor: new URL(raw).searchParams.get('cursor'),
      });
      const step = script.shift();
      if (step === undefined) return hangingFetch(raw, init);
      if (step === 'ok') {
        delivered += 1;
        const body = { events: [event(delivered)], cursor: `1.cursor-${delivered}`, resets: [] };
        return { status: 200, text: async () => JSON.stringify(body) };
      }
      return { status: step, text: async () => '{"error":{"code":"busy","message":"later"}}' };
    };
    const events: string[] = [];
    const retries: (number | undefined)[] = [];
    const states: ConnectionState[] = [];
    const errors: SubscribeError[] = [];
    const unsubscribe = subscribeWithClock(
      {
        url: 'https://stream.example',
        channels: ['c'],
        from: '1.cursor-0',
        transport: 'poll',
        EventSource: null,
        fetch,
        timing: { backoffBaseMs: 100, backoffMaxMs: 1_000 },
        random: () => 1,
        onEvent: (e) => events.push(e.data),
        onStateChange: (state, info) => {
          states.push(state);
          if (state === 'reconnecting') retries.push(info.retryInMs);
        },
        onError: (error) => errors.push(error),
      },
      clock,
    );

    await clock.advance(99);
    expect(requests.map((r) => r.at)).toEqual([0]);
    await clock.advance(1);
    expect(requests.map((r) => r.at)).toEqual([0, 100]);

    await clock.advance(3_500);
    expect(retries).toEqual([100, 200, 400, 800, 1_000, 1_000, 100]);
    expect(requests).toEqual([
      { at: 0, cursor: '1.cursor-0' },
      { at: 100, cursor: '1.cursor-0' },
      { at: 300, cursor: '1.cursor-0' },
      { at: 700, cursor: '1.cursor-0' },
      { at: 1_500, cursor: '1.cursor-0' },
      { at: 2_500, cursor: '1.cursor-0' },
      { at: 3_500, cursor: '1.cursor-0' },
      { at: 3_500, cursor: '1.cursor-1' },
      { at: 3_600, cursor: '1.cursor-1' },
      { at: 3_600, cursor: '1.cursor-2' },
    ]);
    expect(events).toEqual(['event 1', 'event 2']);
    expect(errors.map((e) => [e.code, e.status, e.fatal])).toEqual([
      ...Array(6).fill(['network', 503, false]),
      ['network', 429, false],
    ]);
    expect(states.at(-1)).toBe('polling');

    unsubscribe();
    expect(states.at(-1)).toBe('closed');
    await clock.advance(60_000);
    expect(requests).toHaveLength(10);
    expect(clock.pending).toBe(0);
  });
});
