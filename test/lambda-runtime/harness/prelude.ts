/**
 * The metadata prelude of a streamed function URL response, as the runtime client's
 * `HttpResponseStream.from` writes it: the response's content type becomes
 * {@link PRELUDE_CONTENT_TYPE}, and the body starts with `JSON.stringify(prelude)` and
 * 8 NUL bytes. JSON text cannot hold a raw NUL (JSON.stringify escapes it), so the first
 * run of 8 NUL bytes is the delimiter.
 */

export const PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
export const PRELUDE_DELIMITER = Buffer.alloc(8);

/** What a function may put in the prelude (statusCode, headers, cookies). */
export interface Prelude {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly cookies: readonly string[];
}

export class PreludeError extends Error {
  override readonly name = 'PreludeError';
}

/** Checks the parsed JSON of a prelude; a function URL answers 502 to anything else. */
export function toPrelude(value: unknown): Prelude {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PreludeError('prelude is not a JSON object');
  }
  const record = value as Record<string, unknown>;
  const statusCode = record.statusCode ?? 200;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode)) {
    throw new PreludeError(`prelude statusCode is not an integer: ${JSON.stringify(statusCode)}`);
  }
  const headers: Record<string, string> = {};
  if (record.headers !== undefined) {
    if (typeof record.headers !== 'object' || record.headers === null) {
      throw new PreludeError('prelude headers is not an object');
    }
    for (const [name, v] of Object.entries(record.headers)) headers[name] = String(v);
  }
  const cookies: string[] = [];
  if (record.cookies !== undefined) {
    if (!Array.isArray(record.cookies)) throw new PreludeError('prelude cookies is not an array');
    for (const cookie of record.cookies) cookies.push(String(cookie));
  }
  return { statusCode, headers, cookies };
}

/**
 * Splits a streamed body into its prelude and the bytes after it, as they arrive.
 * `push` returns the body bytes of that chunk (empty while the prelude is incomplete).
 */
export class PreludeParser {
  #buffer: Buffer = Buffer.alloc(0);
  #prelude: Prelude | undefined;

  get prelude(): Prelude | undefined {
    return this.#prelude;
  }

  /** Bytes received that still belong to an unfinished prelude. */
  get pending(): number {
    return this.#prelude === undefined ? this.#buffer.length : 0;
  }

  push(chunk: Buffer): Buffer {
    if (this.#prelude !== undefined) return chunk;
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const end = this.#buffer.indexOf(PRELUDE_DELIMITER);
    if (end === -1) return Buffer.alloc(0);
    let parsed: unknown;
    try {
      parsed = JSON.parse(this.#buffer.subarray(0, end).toString('utf8'));
    } catch (error) {
      throw new PreludeError(`prelude is not JSON: ${(error as Error).message}`);
    }
    this.#prelude = toPrelude(parsed);
    const body = this.#buffer.subarray(end + PRELUDE_DELIMITER.length);
    this.#buffer = Buffer.alloc(0);
    return body;
  }
}
