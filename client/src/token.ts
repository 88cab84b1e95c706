import { SubscribeError } from './types.js';

/**
 * Reads a JWT's `exp` claim (seconds since the epoch) **without verifying** the token:
 * the client only needs to know when to fetch a new one; the server verifies.
 * Returns `undefined` for anything that is not a JWT with a numeric `exp`.
 */
export function tokenExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined || payload === '') return undefined;
  const text = decodeBase64Url(payload);
  if (text === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(text);
    if (typeof claims !== 'object' || claims === null) return undefined;
    const exp: unknown = Reflect.get(claims, 'exp');
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
  } catch {
    return undefined;
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * base64url → text. Written out rather than `atob`/`Buffer`, which not every
 * JavaScript runtime has (React Native's Hermes gained `atob` late).
 */
export function decodeBase64Url(input: string): string | undefined {
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of input.replace(/=+$/, '')) {
    const value = ALPHABET.indexOf(char === '+' ? '-' : char === '/' ? '_' : char);
    if (value < 0) return undefined;
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return utf8Decode(bytes);
}

function utf8Decode(bytes: readonly number[]): string | undefined {
  if (typeof TextDecoder === 'function') {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
    } catch {
      return undefined;
    }
  }
  // No TextDecoder: enough for the claims the SDK reads (ASCII keys and numbers).
  return String.fromCharCode(...bytes);
}

export interface TokenSourceOptions {
  readonly token?: string | undefined;
  readonly getToken?: (() => string | Promise<string>) | undefined;
  /** Fetch a new token this long before `exp` (at most half the token's life). */
  readonly refreshMarginMs: number;
  readonly clock: () => number;
}

interface Held {
  readonly token: string;
  /** When to fetch the next one, ms since the epoch; undefined when it never expires. */
  readonly refreshAt: number | undefined;
}

/**
 * The token to send. A static `token` is used as is; with `getToken`, the token is
 * fetched on first use, again once it is within the refresh margin of its `exp`, and
 * again whenever the server answered 401 ({@link invalidate}). Concurrent callers share
 * one `getToken` call.
 */
export class TokenSource {
  readonly #options: TokenSourceOptions;
  #held: Held | undefined;
  #pending: Promise<Held> | undefined;

  constructor(options: TokenSourceOptions) {
    this.#options = options;
    if (options.token !== undefined) this.#held = { token: options.token, refreshAt: undefined };
  }

  /** Whether a 401 can be answered with a new token. */
  get canRefresh(): boolean {
    return this.#options.getToken !== undefined;
  }

  /** When the held token should be replaced, ms since the epoch, if it should be. */
  get refreshAt(): number | undefined {
    return this.canRefresh ? this.#held?.refreshAt : undefined;
  }

  /**
   * The token for the next request, or `undefined` when the subscription has none.
   * @throws SubscribeError `token` when `getToken` fails.
   */
  async get(): Promise<string | undefined> {
    const { getToken, clock } = this.#options;
    if (getToken === undefined) return this.#held?.token;
    const held = this.#held;
    if (held !== undefined && (held.refreshAt === undefined || clock() < held.refreshAt)) {
      return held.token;
    }
    this.#pending ??= this.#fetch(getToken).finally(() => {
      this.#pending = undefined;
    });
    return (await this.#pending).token;
  }

  /** Forget the held token (the server refused it); the next {@link get} fetches one. */
  invalidate(): void {
    if (this.canRefresh) this.#held = undefined;
  }

  async #fetch(getToken: () => string | Promise<string>): Promise<Held> {
    let token: unknown;
    try {
      token = await getToken();
    } catch (error) {
      throw new SubscribeError('token', 'getToken failed', { cause: error });
    }
    if (typeof token !== 'string' || token === '') {
      throw new SubscribeError('token', 'getToken returned no token');
    }
    const now = this.#options.clock();
    const exp = tokenExpiry(token);
    let refreshAt: number | undefined;
    if (exp !== undefined) {
      const expiresAt = exp * 1000;
      const margin = Math.min(this.#options.refreshMarginMs, Math.max(0, expiresAt - now) / 2);
      refreshAt = expiresAt - margin;
    }
    const held = { token, refreshAt };
    this.#held = held;
    return held;
  }
}
