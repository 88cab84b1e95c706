import type { EventFeed } from '../core/event-feed.js';
import { runPoll } from '../core/poll.js';
import { stopTime } from '../core/stop-time.js';
import { NO_STREAM_METRICS, type StreamMetrics } from '../core/stream-metrics.js';
import { runStreamSession, type StreamSummary } from '../core/stream-session.js';
import { AccessRefusedError, type Authorizer, refusalAsHttpError } from './access.js';
import { corsHeaders, preflightHeaders } from './cors.js';
import {
  errorBody,
  HttpError,
  type HttpRequest,
  type HttpResponse,
  JSON_HEADERS,
} from './http-types.js';
import type { SubscribeConfig } from './subscribe-config.js';
import { parseSubscribeRequest, type SubscribeRequest } from './subscribe-request.js';

export interface RouterDependencies {
  readonly config: SubscribeConfig;
  /** The feed for one request: a fresh polling feed in Lambda, a shared one in Node. */
  readonly feed: () => EventFeed;
  readonly clock: () => number;
  readonly random: () => number;
  /** @default every channel is public */
  readonly authorize?: Authorizer;
  /** Told of an unexpected error before it becomes a 500 answer (log it here). */
  readonly onError?: (error: unknown, request: HttpRequest) => void;
  /**
   * Aborts when the whole server is shutting down: every stream ends after its last
   * complete event (reason `shutdown`) and a long poll answers with what it has.
   */
  readonly shutdown?: AbortSignal;
  /** Streams opened and ended, deliveries, resets and refusals. @default none counted */
  readonly metrics?: StreamMetrics;
}

const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-store, no-transform',
  // nginx and some proxies buffer responses unless told not to.
  'x-accel-buffering': 'no',
};

const allowAll: Authorizer = async () => ({});

/**
 * The routes of the subscribe side, shared by the Lambda and Node adapters:
 * `GET /events` (SSE), `GET /poll` (JSON), CORS preflights, and JSON errors.
 */
export function createRouter(
  deps: RouterDependencies,
): (request: HttpRequest) => Promise<HttpResponse> {
  const { config } = deps;
  const authorize = deps.authorize ?? allowAll;
  const metrics = deps.metrics ?? NO_STREAM_METRICS;

  async function subscribe(
    request: HttpRequest,
  ): Promise<{ req: SubscribeRequest; notAfter?: number }> {
    const req = parseSubscribeRequest(request, config);
    try {
      const grant = await authorize(request, req.channels);
      return { req, notAfter: grant.notAfter };
    } catch (error) {
      throw error instanceof AccessRefusedError ? refusalAsHttpError(error) : error;
    }
  }

  async function events(request: HttpRequest, cors: Record<string, string>): Promise<HttpResponse> {
    const { req, notAfter } = await subscribe(request);
    const feed = deps.feed();
    return {
      kind: 'stream',
      status: 200,
      headers: { ...STREAM_HEADERS, ...cors },
      run: async (write, signal) => {
        const stop = stopTime({
          now: deps.clock(),
          lifetimeMs: config.lifetimeMs,
          jitter: config.lifetimeJitter,
          random: deps.random,
          deadline: request.deadline,
          deadlineMarginMs: config.deadlineMarginMs,
          notAfter,
        });
        metrics.streamOpened(req.channels);
        let summary: StreamSummary;
        try {
          summary = await runStreamSession(
            {
              channels: req.channels,
              resume: req.resume,
              envelope: req.envelope,
              retryMs: config.retryMs,
              heartbeatMs: config.heartbeatMs,
              stopAt: stop.at,
              stopCause: stop.cause,
              byteBudget: config.byteBudget,
              pageSize: config.pageSize,
              paddingBytes: config.paddingBytes,
            },
            { feed, clock: deps.clock, write, signal, shutdown: deps.shutdown, observer: metrics },
          );
        } catch (error) {
          metrics.streamEnded(req.channels, 'failed');
          throw error;
        }
        metrics.streamEnded(req.channels, summary.reason);
        return summary;
      },
    };
  }

  async function poll(request: HttpRequest, cors: Record<string, string>): Promise<HttpResponse> {
    const { req, notAfter } = await subscribe(request);
    // A long poll ends before the Lambda deadline and the token's expiry.
    const limits = [req.waitMs];
    if (request.deadline !== undefined) {
      limits.push(request.deadline - config.deadlineMarginMs - deps.clock());
    }
    if (notAfter !== undefined) limits.push(notAfter - deps.clock());
    const signals = [request.signal, deps.shutdown].filter((s) => s !== undefined);
    const result = await runPoll(
      {
        channels: req.channels,
        resume: req.resume,
        waitMs: Math.max(0, Math.min(...limits)),
        limit: config.pollLimit,
        maxBytes: config.pollMaxBytes,
      },
      {
        feed: deps.feed(),
        clock: deps.clock,
        signal: signals.length > 0 ? AbortSignal.any(signals) : new AbortController().signal,
      },
    );
    return { kind: 'json', status: 200, headers: { ...JSON_HEADERS, ...cors }, body: result };
  }

  return async (request) => {
    const cors = corsHeaders(request, config.corsOrigins);
    try {
      const route = request.path.replace(/\/+$/, '') || '/';
      if (route !== '/events' && route !== '/poll') {
        throw new HttpError(404, 'not_found', `no route for ${request.path}`);
      }
      if (request.method === 'OPTIONS') {
        return {
          kind: 'empty',
          status: 204,
          headers: preflightHeaders(request, config.corsOrigins),
        };
      }
      if (request.method !== 'GET') {
        throw new HttpError(
          405,
          'method_not_allowed',
          `${request.method} is not allowed; use GET`,
          {
            allow: 'GET, OPTIONS',
          },
        );
      }
      return route === '/events' ? await events(request, cors) : await poll(request, cors);
    } catch (error) {
      if (error instanceof HttpError) {
        metrics.refused(error.status, error.code);
        return {
          kind: 'json',
          status: error.status,
          headers: { ...JSON_HEADERS, ...cors, ...error.headers },
          body: errorBody(error.code, error.message),
        };
      }
      // Answer with the CORS headers too, or a browser sees an opaque CORS failure
      // instead of the 500.
      deps.onError?.(error, request);
      metrics.refused(500, 'internal');
      return {
        kind: 'json',
        status: 500,
        headers: { ...JSON_HEADERS, ...cors },
        body: errorBody('internal', 'internal error'),
      };
    }
  };
}
