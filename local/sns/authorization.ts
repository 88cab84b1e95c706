/**
 * The local endpoint's one gate: a request must carry an AWS SigV4 `Authorization`
 * header. The signature is not verified (local credentials are arbitrary); what matters
 * is that a browser sends this header only from script, and a cross-origin script only
 * after a CORS preflight that `/sns` never grants. So a web page the developer happens
 * to visit cannot publish to their local stack with a hidden form. Pure.
 */
import { type SnsError, snsErrors } from './sns-error.js';

const SCHEME = 'AWS4-HMAC-SHA256 ';
/** The components a SigV4 header names, in the order AWS reports them missing. */
const COMPONENTS = ['Credential', 'Signature', 'SignedHeaders'] as const;

/** `undefined` when the header is a SigV4 one; otherwise the error SNS would answer. */
export function checkAuthorization(header: string | undefined): SnsError | undefined {
  if (header === undefined || header.trim() === '') return snsErrors.missingAuthenticationToken();
  const present = new Set<string>();
  if (header.startsWith(SCHEME)) {
    for (const part of header.slice(SCHEME.length).split(',')) {
      const equals = part.indexOf('=');
      if (equals > 0 && part.slice(equals + 1).trim() !== '') {
        present.add(part.slice(0, equals).trim());
      }
    }
  }
  const missing = COMPONENTS.filter((component) => !present.has(component));
  return missing.length === 0 ? undefined : snsErrors.incompleteSignature(missing, header);
}
