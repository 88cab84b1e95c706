import { describe, expect, it } from 'vitest';
import {
  connectionLimits,
  parseOpenFilesLimit,
  REFUSAL_WINDOW,
  RESERVED_DESCRIPTORS,
} from '../../../../functions/config/connection-limits.js';
import { ConfigError } from '../../../../functions/config/env.js';
import { parseListenAddress } from '../../../../functions/config/listen-address.js';
import {
  readWebServerConfig,
  SHUTDOWN_GRACE_MS,
} from '../../../../functions/config/web-server-config.js';

const PROC_LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 4096                 files
Max locked memory         8388608              8388608              bytes
`;

describe('Function: parseListenAddress', () => {
  it.each([
    ['127.0.0.1:8080', '127.0.0.1', 8080],
    ['0.0.0.0:9001', '0.0.0.0', 9001],
    ['localhost:3000', 'localhost', 3000],
    ['[::1]:8080', '::1', 8080],
    ['http://127.0.0.1:8080/', '127.0.0.1', 8080],
  ])('reads %s', (value, host, port) => {
    expect(parseListenAddress(value)).toEqual({ host, port });
  });

  it.each(['8080', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', 'a b:80', ''])(
    'refuses %j, naming the variable and the value',
    (value) => {
      expect(() => parseListenAddress(value)).toThrow(ConfigError);
      expect(() => parseListenAddress(value)).toThrow(
        `AWS_LAMBDA_HTTP_ENDPOINT must be host:port (for example 127.0.0.1:8080), got ${JSON.stringify(value)}`,
      );
    },
  );
});

describe('Function: connectionLimits', () => {
  it('reads the soft open-files limit from /proc/self/limits', () => {
    expect(parseOpenFilesLimit(PROC_LIMITS)).toBe(1024);
    expect(parseOpenFilesLimit(PROC_LIMITS.replace('1024 ', 'unlimited '))).toBeUndefined();
    expect(parseOpenFilesLimit('nothing here')).toBeUndefined();
  });

  it("keeps descriptors for everything that is not a client in a Web Function's 1,024", () => {
    const limits = connectionLimits(1024);
    expect(limits).toEqual({
      serve: 1024 - RESERVED_DESCRIPTORS - REFUSAL_WINDOW,
      refuse: 1024 - RESERVED_DESCRIPTORS,
    });
    // Far more than one environment's 128 concurrent requests, far from running out.
    expect(limits.serve).toBeGreaterThan(128);
    expect(limits.refuse).toBeLessThan(1024);
  });

  it('takes MAX_CONNECTIONS as the number served', () => {
    expect(connectionLimits(1024, 200)).toEqual({ serve: 200, refuse: 200 + REFUSAL_WINDOW });
  });

  it('refuses a limit that leaves no room for a connection', () => {
    expect(() => connectionLimits(100)).toThrow(/open-files limit of 100 .*set MAX_CONNECTIONS/);
  });
});

describe('Function: readWebServerConfig', () => {
  it('listens where Lambda says, with no deadline and limits from the descriptors by default', () => {
    expect(readWebServerConfig({ AWS_LAMBDA_HTTP_ENDPOINT: '127.0.0.1:8080' }, 1024)).toEqual({
      listen: { host: '127.0.0.1', port: 8080 },
      requestTimeoutMs: undefined,
      connectionLimits: connectionLimits(1024),
      shutdownGraceMs: SHUTDOWN_GRACE_MS,
    });
  });

  it('reads the revision timeout and MAX_CONNECTIONS', () => {
    const config = readWebServerConfig(
      {
        AWS_LAMBDA_HTTP_ENDPOINT: '127.0.0.1:8080',
        REQUEST_TIMEOUT_SECONDS: '360',
        MAX_CONNECTIONS: '500',
      },
      1024,
    );
    expect(config.requestTimeoutMs).toBe(360_000);
    expect(config.connectionLimits.serve).toBe(500);
  });

  it('names the variable that is missing or wrong', () => {
    expect(() => readWebServerConfig({}, 1024)).toThrow(
      'environment variable AWS_LAMBDA_HTTP_ENDPOINT is required',
    );
    expect(() =>
      readWebServerConfig(
        { AWS_LAMBDA_HTTP_ENDPOINT: '127.0.0.1:8080', REQUEST_TIMEOUT_SECONDS: '0' },
        1024,
      ),
    ).toThrow('REQUEST_TIMEOUT_SECONDS must be a positive integer, got "0"');
    expect(() =>
      readWebServerConfig(
        { AWS_LAMBDA_HTTP_ENDPOINT: '127.0.0.1:8080', MAX_CONNECTIONS: 'lots' },
        1024,
      ),
    ).toThrow('MAX_CONNECTIONS must be a positive integer, got "lots"');
  });
});
