/**
 * Access control for the subscribe routes (DESIGN.md, "Access control"), plugged into
 * the router's {@link Authorizer} seam.
 *
 * - A subscription of public channels only needs no token; one sent anyway is not even
 *   read (a stale token must not break a public stream).
 * - A subscription with a private channel needs a token (token-source.ts) that verifies
 *   (token-verifier.ts) and grants every private channel asked for.
 * - The grant ends at the token's `exp`: the stream ends itself cleanly then, and the
 *   client reconnects with a fresh token and its last event id.
 *
 * Refusals, before any stream byte: {@link UnauthenticatedError} (no token, or one that
 * does not verify: the message says why, never echoing the token) and
 * {@link ChannelsNotGrantedError} (the token does not grant a channel; the message names
 * it). The HTTP side turns them into 401 and 403 (../http/access.ts).
 */
import { type Authorizer, ChannelsNotGrantedError, UnauthenticatedError } from '../http/access.js';
import { grantsChannel, isPrivateChannel } from './channel-grants.js';
import { findToken } from './token-source.js';
import { TokenError, type TokenVerifier } from './token-verifier.js';

/** The cookie read for a token unless `AUTH_COOKIE_NAME` says otherwise. */
export const DEFAULT_COOKIE_NAME = 'sse_token';

export interface AuthorizerOptions {
  /** Channels starting with one of these need a token. */
  readonly privatePrefixes: readonly string[];
  readonly verify: TokenVerifier;
  /** @default DEFAULT_COOKIE_NAME */
  readonly cookieName?: string | undefined;
}

export function createAuthorizer(options: AuthorizerOptions): Authorizer {
  const cookieName = options.cookieName ?? DEFAULT_COOKIE_NAME;
  const { privatePrefixes, verify } = options;

  return async (request, channels) => {
    const privateChannels = channels.filter((c) => isPrivateChannel(privatePrefixes, c));
    if (privateChannels.length === 0) return {};

    let grant: Awaited<ReturnType<TokenVerifier>>;
    try {
      const found = findToken(request, cookieName);
      if (found === undefined) {
        throw new UnauthenticatedError(
          `a token is required for private channel ${JSON.stringify(privateChannels[0])}: ` +
            `send "Authorization: Bearer <token>", ?token=<token> or the ${cookieName} cookie`,
          false,
        );
      }
      grant = await verify(found.token);
    } catch (error) {
      if (error instanceof TokenError) throw new UnauthenticatedError(error.message, true);
      throw error;
    }

    const refused = privateChannels.filter((c) => !grantsChannel(grant.channels, c));
    if (refused.length > 0) {
      const names = refused.map((c) => JSON.stringify(c)).join(', ');
      throw new ChannelsNotGrantedError(
        `token does not grant channel${refused.length > 1 ? 's' : ''} ${names}`,
        refused,
      );
    }
    return { notAfter: grant.expiresAt };
  };
}
