import type { StreamSummary } from '../core/stream-session.js';

/**
 * The little HTTP model the routes speak, so that one route code serves both the
 * Lambda function URL (response streaming) and Node's `http` server.
 */
export interface HttpRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/events`. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** When the host will stop this request (Lambda's deadline), ms since the epoch. */
  readonly deadline?: number | undefined;
  /** Aborts when the client goes away, where the host can tell (Node, not Lambda). */
  readonly signal?: AbortSignal | undefined;
}

export type HttpHeaders = Record<string, string>;

export type StreamWriter = (chunk: string) => Promise<void> | void;

export type HttpResponse =
  | {
      readonly kind: 'json';
      readonly status: number;
      readonly headers: HttpHeaders;
      readonly body: unknown;
    }
  | { readonly kind: 'empty'; readonly status: number; readonly headers: HttpHeaders }
  | {
      readonly kind: 'stream';
      readonly status: 200;
      readonly headers: HttpHeaders;
      /** Writes the body; resolves when the stream has ended itself or `signal` aborted. */
      readonly run: (write: StreamWriter, signal: AbortSignal) => Promise<StreamSummary>;
    };

/** A request the routes refuse; adapters never see it, they get a JSON response. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 413 | 414,
    readonly code: string,
    message: string,
    readonly headers: HttpHeaders = {},
  ) {
    super(message);
  }
}

/** Headers of every JSON answer, errors included: never cached (a poll answer is news). */
export const JSON_HEADERS: Readonly<HttpHeaders> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
};

/** The JSON error shape of the contract: `{"error":{"code","message"}}`. */
export function errorBody(
  code: string,
  message: string,
): { error: { code: string; message: string } } {
  return { error: { code, message } };
}
