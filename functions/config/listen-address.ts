/**
 * Where a Lambda Web Function's server listens: Lambda passes the host and port in
 * `AWS_LAMBDA_HTTP_ENDPOINT` (there is no `PORT`).
 */
import { ConfigError } from './env.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `host:port`, `[v6-address]:port`, or the same with an `http://` prefix. Throws
 * an error naming `name` and the value when it is neither.
 */
export function parseListenAddress(
  value: string,
  name = 'AWS_LAMBDA_HTTP_ENDPOINT',
): ListenAddress {
  const text = value
    .trim()
    .replace(/^http:\/\//i, '')
    .replace(/\/$/, '');
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]/\s]+)):(\d{1,5})$/.exec(text);
  const port = match === null ? Number.NaN : Number(match[3]);
  if (match === null || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new ConfigError(
      `environment variable ${name} must be host:port (for example 127.0.0.1:8080), got ${JSON.stringify(value)}`,
    );
  }
  return { host: match[1] ?? match[2] ?? '', port };
}
