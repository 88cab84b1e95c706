/**
 * Which channels are private, and which channels a token's `channels` claim grants
 * (DESIGN.md, "Access control"). Pure rules shared by the verifier and by the publisher
 * SDK that mints tokens, so a token the SDK signs is one the verifier reads the same way.
 *
 * A grant is an exact channel name (`orders/42`) or a prefix pattern: a channel-name
 * prefix followed by one `*` at the very end (`user/7/*`). `a*` grants `a`, `ab` and
 * `a/b`, never `b`. A bare `*` (every channel) is refused: no subscriber needs every
 * private channel, and a leaked token of that kind would read them all. Channel names
 * cannot contain `*` (contract.ts, CHANNEL_PATTERN), so a pattern is never ambiguous.
 */
import { CHANNEL_PATTERN } from '../core/contract.js';
import { quote } from '../core/quote.js';

/** The one wildcard, allowed only as the last character of a pattern. */
export const WILDCARD = '*';

/**
 * Why `pattern` is not a valid grant, or `undefined` when it is. Exact names follow the
 * contract's channel rule; a prefix pattern's prefix must itself be a valid channel name
 * (every non-empty prefix of a valid channel name is one).
 */
export function channelPatternProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string') return 'a channel pattern must be a string';
  if (pattern === WILDCARD) {
    return 'a bare "*" (every channel) is not accepted; grant a prefix such as "private/*"';
  }
  const prefix = pattern.endsWith(WILDCARD) ? pattern.slice(0, -1) : pattern;
  if (!CHANNEL_PATTERN.test(prefix)) {
    return `${quote(pattern)} must be a channel name, or a channel-name prefix followed by one "*"`;
  }
  return undefined;
}

/** Whether one of `patterns` (already valid) grants `channel`. */
export function grantsChannel(patterns: readonly string[], channel: string): boolean {
  return patterns.some((pattern) =>
    pattern.endsWith(WILDCARD) ? channel.startsWith(pattern.slice(0, -1)) : pattern === channel,
  );
}

/**
 * Whether `channel` needs a token: it starts with one of the configured private
 * prefixes. A plain string prefix: `user/` makes `user/7` private but not `user` or
 * `users`; `user` would make `username` private too.
 */
export function isPrivateChannel(privatePrefixes: readonly string[], channel: string): boolean {
  return privatePrefixes.some((prefix) => channel.startsWith(prefix));
}

/** A `channels` claim that cannot be read; the token is refused as a whole. */
export class InvalidChannelsClaimError extends Error {
  override readonly name = 'InvalidChannelsClaimError';
}

/**
 * Reads a token's `channels` claim: an array of patterns, or one string of patterns
 * separated by spaces (for issuers whose custom claims can only be strings, as OAuth's
 * `scope` is). Absent means "grants nothing".
 * @throws InvalidChannelsClaimError when it is of another type or holds a bad pattern.
 */
export function parseChannelsClaim(claim: unknown): string[] {
  if (claim === undefined) return [];
  let patterns: unknown[];
  if (typeof claim === 'string') patterns = claim.split(' ').filter((p) => p !== '');
  else if (Array.isArray(claim)) patterns = claim;
  else throw new InvalidChannelsClaimError('channels claim must be an array of channel patterns');
  const valid: string[] = [];
  for (const pattern of patterns) {
    const problem = channelPatternProblem(pattern);
    if (problem !== undefined) throw new InvalidChannelsClaimError(`channels claim: ${problem}`);
    valid.push(pattern as string);
  }
  return valid;
}
