/**
 * The access-control seam of the subscribe routes: the {@link Authorizer} port the router
 * calls before any stream byte, the refusals an authorizer throws, and how those become
 * HTTP answers. An authorizer says why it refuses; the status and headers are chosen here,
 * on the HTTP side (401 with `WWW-Authenticate` per RFC 6750 §3, or 403).
 */
import { HttpError, type HttpRequest } from './http-types.js';

/**
 * Decides whether a request may read its channels. Resolves with the time the grant ends
 * (ms since the epoch), if it ends; throws an {@link AccessRefusedError} otherwise. The
 * product's JWT authorizer is `createAuthorizer` (../auth/authorizer.ts), built from the
 * environment by `authorizerFromConfig`.
 */
export type Authorizer = (
  request: HttpRequest,
  channels: readonly string[],
) => Promise<{ readonly notAfter?: number | undefined }>;

/** Why a request may not read its channels; the message says it without the token. */
export abstract class AccessRefusedError extends Error {}

/** No token was sent, or the one sent does not verify. */
export class UnauthenticatedError extends AccessRefusedError {
  override readonly name = 'UnauthenticatedError';
  constructor(
    message: string,
    /** A token was sent but did not verify (as opposed to none at all). */
    readonly invalidToken: boolean,
  ) {
    super(message);
  }
}

/** The token verifies but does not grant every channel asked for. */
export class ChannelsNotGrantedError extends AccessRefusedError {
  override readonly name = 'ChannelsNotGrantedError';
  constructor(
    message: string,
    readonly channels: readonly string[],
  ) {
    super(message);
  }
}

/** The answer to a refusal: 401 `unauthorized` or 403 `forbidden`. */
export function refusalAsHttpError(error: AccessRefusedError): HttpError {
  if (error instanceof ChannelsNotGrantedError) {
    return new HttpError(403, 'forbidden', error.message, {
      'www-authenticate': 'Bearer error="insufficient_scope"',
    });
  }
  const invalidToken = error instanceof UnauthenticatedError && error.invalidToken;
  return new HttpError(401, 'unauthorized', error.message, {
    'www-authenticate': invalidToken ? 'Bearer error="invalid_token"' : 'Bearer',
  });
}
