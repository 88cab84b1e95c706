/**
 * The client's failure policy on its own: for each thing that can fail, what the
 * subscription does next and with which error, from plain values (no timers, no fetch).
 */
import { describe, expect, it } from 'vitest';
import {
  afterHttp,
  afterPoll,
  afterProbe,
  afterStream,
  afterTokenFailure,
  type FailureState,
  type Next,
} from '../../../client/src/failure-policy.js';
import type { HttpFailure, PollAnswer } from '../../../client/src/transports/poll.js';
import { SubscribeError } from '../../../client/src/types.js';

const STATE: FailureState = {
  canFallBack: true,
  canRefreshToken: true,
  authRetries: 0,
  emptyEnds: 0,
  hasCursor: true,
};

const http = (status: number, code?: string): HttpFailure => ({
  kind: 'http',
  status,
  code,
  message: `HTTP ${status}: refused`,
});

/** The decision with its error as the plain fields an app sees. */
function summary(next: Next | { kind: 'probe'; reason: string }) {
  if (!('error' in next) || next.error === undefined) return next;
  const { error } = next;
  expect(error).toBeInstanceOf(SubscribeError);
  return {
    ...next,
    error: { code: error.code, message: error.message, status: error.status, fatal: error.fatal },
  };
}

describe('Function: afterStream', () => {
  it('reconnects at once after a stop or a token renewal', () => {
    expect(afterStream({ kind: 'stopped' }, STATE)).toEqual({
      next: { kind: 'reconnect' },
      emptyEnds: 0,
    });
    expect(afterStream({ kind: 'renew' }, { ...STATE, emptyEnds: 2 })).toEqual({
      next: { kind: 'reconnect' },
      emptyEnds: 2,
    });
  });

  it('backs off without an error after a stream that worked ended', () => {
    expect(afterStream({ kind: 'ended', healthy: true }, { ...STATE, emptyEnds: 2 })).toEqual({
      next: { kind: 'backoff' },
      emptyEnds: 2,
    });
  });

  it('counts streams that end before they work, and asks /poll at the third', () => {
    const ended = { kind: 'ended', healthy: false } as const;
    const first = afterStream(ended, STATE);
    expect(first).toEqual({ next: { kind: 'backoff' }, emptyEnds: 1 });
    const second = afterStream(ended, { ...STATE, emptyEnds: first.emptyEnds });
    expect(second).toEqual({ next: { kind: 'backoff' }, emptyEnds: 2 });
    expect(afterStream(ended, { ...STATE, emptyEnds: second.emptyEnds })).toEqual({
      next: { kind: 'probe', reason: 'the stream keeps ending before it delivers anything' },
      emptyEnds: 0,
    });
  });

  it('asks /poll why a stream was refused', () => {
    expect(afterStream({ kind: 'refused', reason: 'no open within 10 ms' }, STATE)).toEqual({
      next: { kind: 'probe', reason: 'no open within 10 ms' },
      emptyEnds: 0,
    });
  });

  it('falls back to polling after a stall, or backs off when streaming is all there is', () => {
    const stalled = { kind: 'stalled', reason: 'held back' } as const;
    const error = { code: 'stalled', message: 'stream stalled: held back', fatal: false };
    expect(summary(afterStream(stalled, STATE).next)).toMatchObject({ kind: 'fall-back', error });
    expect(summary(afterStream(stalled, { ...STATE, canFallBack: false }).next)).toMatchObject({
      kind: 'backoff',
      error,
    });
  });
});

describe('Function: afterProbe', () => {
  it('blames the stream when /poll works: fall back, or back off without fallback', () => {
    const ok: PollAnswer = { kind: 'ok', events: [], cursor: '1.a', resets: [] };
    const error = { code: 'network', message: 'stream failed (closed) while /poll works' };
    expect(summary(afterProbe('closed', ok, STATE))).toMatchObject({ kind: 'fall-back', error });
    expect(summary(afterProbe('closed', ok, { ...STATE, canFallBack: false }))).toMatchObject({
      kind: 'backoff',
      error,
    });
  });

  it("answers /poll's error status as a poll's own, and backs off on anything else", () => {
    expect(afterProbe('closed', http(401), STATE)).toEqual(afterHttp(http(401), STATE));
    expect(
      summary(afterProbe('closed', { kind: 'network', message: 'fetch failed' }, STATE)),
    ).toMatchObject({
      kind: 'backoff',
      error: { code: 'network', message: 'stream failed (closed); /poll: fetch failed' },
    });
    expect(
      summary(afterProbe('closed', { kind: 'protocol', message: 'not JSON' }, STATE)),
    ).toMatchObject({
      kind: 'backoff',
      error: { code: 'protocol', message: 'stream failed (closed); /poll: not JSON' },
    });
  });
});

describe('Function: afterPoll', () => {
  it('backs off on a failed request or a body that is not a poll answer', () => {
    expect(summary(afterPoll({ kind: 'network', message: 'no answer' }, STATE))).toEqual({
      kind: 'backoff',
      error: { code: 'network', message: 'poll failed: no answer', fatal: false },
    });
    expect(summary(afterPoll({ kind: 'protocol', message: 'not JSON' }, STATE))).toMatchObject({
      kind: 'backoff',
      error: { code: 'protocol', message: 'poll failed: not JSON' },
    });
  });

  it('decides an error status as afterHttp does', () => {
    expect(afterPoll(http(403), STATE)).toEqual(afterHttp(http(403), STATE));
    expect(summary(afterPoll(http(503), STATE))).toMatchObject({ kind: 'backoff' });
  });
});

describe('Function: afterHttp', () => {
  it('answers a 401 with a new token: at once the first time, after a backoff from then on', () => {
    expect(summary(afterHttp(http(401), STATE))).toEqual({
      kind: 'refresh-token',
      atOnce: true,
      error: { code: 'unauthorized', message: 'HTTP 401: refused', status: 401, fatal: false },
    });
    expect(summary(afterHttp(http(401), { ...STATE, authRetries: 3 }))).toMatchObject({
      kind: 'refresh-token',
      atOnce: false,
    });
  });

  it('tries one new token against a 403, then gives up', () => {
    expect(summary(afterHttp(http(403), STATE))).toMatchObject({
      kind: 'refresh-token',
      atOnce: true,
      error: { code: 'forbidden', status: 403, fatal: false },
    });
    expect(summary(afterHttp(http(403), { ...STATE, authRetries: 1 }))).toEqual({
      kind: 'give-up',
      error: { code: 'forbidden', message: 'HTTP 403: refused', status: 403, fatal: true },
    });
  });

  it('gives up on a 401 or 403 when there is no getToken to ask', () => {
    const fixed = { ...STATE, canRefreshToken: false };
    expect(summary(afterHttp(http(401), fixed))).toMatchObject({
      kind: 'give-up',
      error: { code: 'unauthorized', status: 401, fatal: true },
    });
    expect(summary(afterHttp(http(403), fixed))).toMatchObject({
      kind: 'give-up',
      error: { code: 'forbidden', status: 403, fatal: true },
    });
  });

  it('forgets a cursor the server cannot read, and gives up on a malformed request without one', () => {
    expect(afterHttp(http(400, 'malformed_cursor'), STATE)).toEqual({ kind: 'forget-cursor' });
    expect(
      summary(afterHttp(http(400, 'malformed_cursor'), { ...STATE, hasCursor: false })),
    ).toMatchObject({ kind: 'give-up', error: { code: 'bad_request', status: 400, fatal: true } });
    expect(summary(afterHttp(http(400, 'bad_channel'), STATE))).toMatchObject({
      kind: 'give-up',
      error: { code: 'bad_request', status: 400, fatal: true },
    });
  });

  it('backs off on statuses that pass (timeouts, throttling, server errors) and gives up on the rest', () => {
    for (const status of [408, 425, 429, 500, 502, 503, 504]) {
      expect(summary(afterHttp(http(status), STATE))).toEqual({
        kind: 'backoff',
        error: { code: 'network', message: `HTTP ${status}: refused`, status, fatal: false },
      });
    }
    for (const status of [404, 405, 409, 413, 422]) {
      expect(summary(afterHttp(http(status), STATE))).toMatchObject({
        kind: 'give-up',
        error: { code: 'bad_request', status, fatal: true },
      });
    }
  });
});

describe('Function: afterTokenFailure', () => {
  it("backs off, keeping the token source's own error or wrapping anything else", () => {
    const own = new SubscribeError('token', 'getToken returned no token');
    expect(afterTokenFailure(own)).toEqual({ kind: 'backoff', error: own });
    const thrown = new Error('offline');
    const next = afterTokenFailure(thrown);
    expect(summary(next)).toMatchObject({
      kind: 'backoff',
      error: { code: 'token', message: 'getToken failed' },
    });
    expect(next.kind === 'backoff' ? next.error?.cause : undefined).toBe(thrown);
  });
});
