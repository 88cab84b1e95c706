/**
 * The Web Function host's own settings, read from the environment beside the subscribe
 * routes' (`readSubscribeConfig`) and access control's (`readAuthConfig`). Every error
 * names the variable.
 */
import { type ConnectionLimits, connectionLimits } from './connection-limits.js';
import { type Env, optionalString, positiveInteger, requiredString } from './env.js';
import { ENV } from './environment.js';
import { type ListenAddress, parseListenAddress } from './listen-address.js';

/**
 * After SIGTERM Lambda gives an environment about a second; streams get this long to
 * end after their last complete event, the rest is left for closing and exiting.
 */
export const SHUTDOWN_GRACE_MS = 700;

export interface WebServerConfig {
  readonly listen: ListenAddress;
  /** Each request's deadline is its arrival plus this; unset: no deadline. */
  readonly requestTimeoutMs: number | undefined;
  readonly connectionLimits: ConnectionLimits;
  readonly shutdownGraceMs: number;
}

/** `descriptors`: the process's open-files limit (`openFilesLimit` in the entry). */
export function readWebServerConfig(env: Env, descriptors: number): WebServerConfig {
  const timeout = optionalString(env, ENV.requestTimeoutSeconds);
  const maxConnections = optionalString(env, ENV.maxConnections);
  return {
    listen: parseListenAddress(requiredString(env, ENV.lambdaHttpEndpoint), ENV.lambdaHttpEndpoint),
    requestTimeoutMs:
      timeout === undefined ? undefined : positiveInteger(env, ENV.requestTimeoutSeconds, 0) * 1000,
    connectionLimits: connectionLimits(
      descriptors,
      maxConnections === undefined ? undefined : positiveInteger(env, ENV.maxConnections, 0),
    ),
    shutdownGraceMs: SHUTDOWN_GRACE_MS,
  };
}
