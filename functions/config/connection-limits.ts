/**
 * How many connections one Node server takes before it turns new ones away. A Lambda Web
 * Function environment has 1,024 file descriptors; each client connection is one, and so
 * is each socket the AWS SDK holds open to DynamoDB (up to 50 by default), the runtime's
 * own, stdio and the event loop's. Running out is not graceful: `accept` fails with
 * EMFILE and the SDK's next request fails too. So the server serves up to `serve`
 * connections, answers 503 with `Retry-After` while it holds up to `refuse`, and above
 * that lets Node drop the connection at once (`server.maxConnections`), keeping
 * `RESERVED_DESCRIPTORS` free for everything that is not a client.
 */

import { ConfigError } from './env.js';

/** Descriptors left to the SDK's sockets (50 by default), the runtime, stdio and libuv. */
export const RESERVED_DESCRIPTORS = 96;
/** Connections above `serve` that still get a 503 answer instead of being dropped. */
export const REFUSAL_WINDOW = 32;
/** What a Web Function environment allows; used when the limit cannot be read. */
export const DEFAULT_FILE_DESCRIPTOR_LIMIT = 1_024;

export interface ConnectionLimits {
  /** Connections served; one more gets a 503. */
  readonly serve: number;
  /** Connections held at most (served or being refused); Node drops the next one. */
  readonly refuse: number;
}

/**
 * The soft "Max open files" limit from the text of `/proc/self/limits` (Linux), or
 * undefined when the text has no such line or says `unlimited`.
 */
export function parseOpenFilesLimit(procLimits: string): number | undefined {
  const line = procLimits.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === undefined || !/^\d+$/.test(soft)) return undefined;
  return Number(soft);
}

/**
 * The limits for a process allowed `descriptors` open files, or for `maxConnections`
 * when the operator set it (`MAX_CONNECTIONS`). Throws when the descriptors leave no
 * room for a single connection.
 */
export function connectionLimits(descriptors: number, maxConnections?: number): ConnectionLimits {
  if (maxConnections !== undefined) {
    return { serve: maxConnections, refuse: maxConnections + REFUSAL_WINDOW };
  }
  const refuse = descriptors - RESERVED_DESCRIPTORS;
  const serve = refuse - REFUSAL_WINDOW;
  if (serve < 1) {
    throw new ConfigError(
      `an open-files limit of ${descriptors} leaves no room for connections ` +
        `(${RESERVED_DESCRIPTORS + REFUSAL_WINDOW} are kept for other uses); set MAX_CONNECTIONS`,
    );
  }
  return { serve, refuse };
}
