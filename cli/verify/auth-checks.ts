/**
 * The access-control checks of `verify`, run when the user names one of the stack's
 * private prefixes and a way to mint tokens for it (`--private-prefix`, `--token-secret`):
 * refusals answered 401/403 in the contract's shape, and a stream that ends when its
 * token expires. Tokens travel as `?token=`, the one way that reaches both hosts through
 * CloudFront (docs/deploy.md).
 */
import { type Check, type CheckOutcome, expect, type VerifyContext } from './checks.js';
import { openSse, until } from './sse-reader.js';

/** What the auth checks need beyond the context: where private channels live, and tokens. */
export interface VerifyAuth {
  /** One of the stack's AUTH_PRIVATE_PREFIXES, e.g. `private/`. */
  readonly privatePrefix: string;
  /** A token granting `channels` for `ttlSeconds`. */
  readonly mint: (channels: readonly string[], ttlSeconds: number) => Promise<string>;
}

/** A token this short-lived still outlasts the stream's opening and one event. */
const EXPIRY_TTL_SECONDS = 8;
/** How late after `exp` the stream may end: the server's timer, the network. */
const EXPIRY_SLACK_MS = 3_000;

const skipped = (): CheckOutcome => ({
  status: 'skip',
  detail: 'no --private-prefix and --token-secret given',
});

/** The `exp` of a JWT, in ms since the epoch (read, not verified: it is ours). */
function expiryOf(token: string): number {
  const payload = token.split('.')[1] ?? '';
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
    exp?: unknown;
  };
  if (typeof claims.exp !== 'number') throw new Error('the minted token has no exp');
  return claims.exp * 1000;
}

async function errorAnswer(
  ctx: VerifyContext,
  url: string,
): Promise<{ status: number; code: string | undefined; challenge: string | null }> {
  const response = await ctx.fetch(url);
  const text = await response.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: response.status, code, challenge: response.headers.get('www-authenticate') };
}

export function authChecks(auth: VerifyAuth | undefined): Check[] {
  const channelOf = (ctx: VerifyContext, name: string) =>
    `${auth?.privatePrefix ?? ''}${ctx.prefix}/${name}`;
  const pollUrl = (ctx: VerifyContext, channel: string, token?: string) =>
    `${ctx.url}/poll?channel=${encodeURIComponent(channel)}${
      token === undefined ? '' : `&token=${encodeURIComponent(token)}`
    }`;

  const refusals: Check = {
    name: 'auth.refusals',
    promise:
      'a private channel without a token, or with a bad one, gets 401 with a challenge; a token for another channel 403; its own token 200',
    async run(ctx) {
      if (auth === undefined) return skipped();
      const channel = channelOf(ctx, 'auth');
      const other = channelOf(ctx, 'auth-other');
      const token = await auth.mint([channel], 300);
      const cases: [string, string, number, string][] = [
        ['no token', pollUrl(ctx, channel), 401, 'unauthorized'],
        ['a malformed token', pollUrl(ctx, channel, 'not-a-token'), 401, 'unauthorized'],
        ['a token for another channel', pollUrl(ctx, other, token), 403, 'forbidden'],
      ];
      for (const [what, url, status, code] of cases) {
        const answer = await errorAnswer(ctx, url);
        expect(
          answer.status === status && answer.code === code,
          `${what}: answered ${answer.status} ${answer.code ?? '(no error code)'}, not ${status} ${code}`,
        );
        if (status === 401) {
          expect(
            answer.challenge?.startsWith('Bearer') === true,
            `${what}: 401 without a WWW-Authenticate: Bearer challenge`,
          );
        }
      }
      const allowed = await ctx.fetch(pollUrl(ctx, channel, token));
      await allowed.text();
      expect(allowed.status === 200, `its own token: /poll answered ${allowed.status}, not 200`);
      return { status: 'pass', detail: '401 ×2 (with a challenge), 403, then 200 with the token' };
    },
  };

  const expiry: Check = {
    name: 'auth.expiry',
    promise: 'a stream ends when its token expires, after delivering; the token then gets 401',
    async run(ctx) {
      if (auth === undefined) return skipped();
      const channel = channelOf(ctx, 'expiry');
      const token = await auth.mint([channel], EXPIRY_TTL_SECONDS);
      const expiresAt = expiryOf(token);
      const c = await openSse(
        `${ctx.url}/events?channel=${encodeURIComponent(channel)}&token=${encodeURIComponent(token)}`,
        {},
        ctx.fetch,
      );
      try {
        expect(c.status === 200, `GET /events with a fresh token answered ${c.status}, not 200`);
        await until(
          () => c.events.some((e) => e.event === 'stream.open'),
          ctx.waitMs,
          'stream.open',
        );
        const data = JSON.stringify({ verify: 'expiry' });
        await ctx.publish(channel, data);
        await until(
          () => c.events.some((e) => e.data === data),
          Math.max(1_000, expiresAt - Date.now()),
          'the event before the token expired',
        );
        const waitMs = Math.max(0, expiresAt - Date.now()) + EXPIRY_SLACK_MS;
        await until(
          () => c.ended(),
          waitMs + 1_000,
          `the stream to end by exp + ${EXPIRY_SLACK_MS} ms`,
        );
        const endedAfterExpMs = Date.now() - expiresAt;
        // exp is in whole seconds and the server stops at exp itself; far earlier is the
        // stream's lifetime (or a cut), not the token.
        expect(
          endedAfterExpMs >= -1_000 && endedAfterExpMs <= EXPIRY_SLACK_MS,
          `the stream ended ${endedAfterExpMs} ms from the token's exp (allowed -1000 to ${EXPIRY_SLACK_MS})`,
        );
        const again = await errorAnswer(ctx, pollUrl(ctx, channel, token));
        expect(again.status === 401, `the expired token answered ${again.status}, not 401`);
        return {
          status: 'pass',
          detail: `ended ${endedAfterExpMs} ms from the token's exp; the expired token got 401`,
          figures: { endedAfterExpMs },
        };
      } finally {
        c.drop();
      }
    },
  };

  return [refusals, expiry];
}
