import { describe, expect, it } from 'vitest';
import { checkAuthorization } from '../../../../local/sns/authorization.js';

const CREDENTIAL = 'Credential=local/20250101/us-east-1/sns/aws4_request';
const SIGNED = 'SignedHeaders=content-type;host;x-amz-date';
const SIGNATURE = 'Signature=3f1c';

describe('Function: checkAuthorization', () => {
  it('accepts any SigV4 header naming a credential, the signed headers and a signature', () => {
    expect(
      checkAuthorization(`AWS4-HMAC-SHA256 ${CREDENTIAL}, ${SIGNED}, ${SIGNATURE}`),
    ).toBeUndefined();
    // curl --aws-sigv4 writes the components without spaces after the commas.
    expect(checkAuthorization(`AWS4-HMAC-SHA256 ${CREDENTIAL},${SIGNED},${SIGNATURE}`)).toBe(
      undefined,
    );
  });

  it.each([undefined, '', '   '])('answers %j with 403 MissingAuthenticationToken', (header) => {
    expect(checkAuthorization(header)).toEqual({
      status: 403,
      type: 'Sender',
      code: 'MissingAuthenticationToken',
      message: 'Request is missing Authentication Token',
    });
  });

  it.each([
    ['another scheme', `Basic bG9jYWw6bG9jYWw=`, ['Credential', 'Signature', 'SignedHeaders']],
    [
      'the scheme in lower case',
      `aws4-hmac-sha256 ${CREDENTIAL}, ${SIGNED}, ${SIGNATURE}`,
      ['Credential', 'Signature', 'SignedHeaders'],
    ],
    ['an empty signature', `AWS4-HMAC-SHA256 ${CREDENTIAL}, ${SIGNED}, Signature=`, ['Signature']],
    ['no signed headers', `AWS4-HMAC-SHA256 ${CREDENTIAL}, ${SIGNATURE}`, ['SignedHeaders']],
  ])('answers %s with IncompleteSignature naming what is missing', (_, header, missing) => {
    const error = checkAuthorization(header);
    expect(error).toMatchObject({ status: 400, type: 'Sender', code: 'IncompleteSignature' });
    expect(error?.message).toBe(
      `${missing.map((part) => `Authorization header requires '${part}' parameter.`).join(' ')} Authorization=${header}`,
    );
  });
});
