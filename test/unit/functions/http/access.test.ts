import { describe, expect, it } from 'vitest';
import {
  ChannelsNotGrantedError,
  refusalAsHttpError,
  UnauthenticatedError,
} from '../../../../functions/http/access.js';

describe('Function: refusalAsHttpError', () => {
  it('answers a missing token with 401 and a bare Bearer challenge', () => {
    const error = refusalAsHttpError(new UnauthenticatedError('a token is required', false));
    expect([error.status, error.code, error.message]).toEqual([
      401,
      'unauthorized',
      'a token is required',
    ]);
    expect(error.headers).toEqual({ 'www-authenticate': 'Bearer' });
  });

  it('answers a token that does not verify with 401 invalid_token', () => {
    const error = refusalAsHttpError(new UnauthenticatedError('token expired', true));
    expect(error.status).toBe(401);
    expect(error.headers).toEqual({ 'www-authenticate': 'Bearer error="invalid_token"' });
  });

  it('answers channels not granted with 403 insufficient_scope', () => {
    const error = refusalAsHttpError(
      new ChannelsNotGrantedError('token does not grant channel "private/b"', ['private/b']),
    );
    expect([error.status, error.code, error.message]).toEqual([
      403,
      'forbidden',
      'token does not grant channel "private/b"',
    ]);
    expect(error.headers).toEqual({ 'www-authenticate': 'Bearer error="insufficient_scope"' });
  });
});
