import { Duration } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { readAuthConfig } from '../../functions/auth/auth-config.js';
import { SsePubSubConfigError } from '../../lib/index.js';
import { resourceProperties, synthConstruct } from './template-helpers.js';

function streamEnvironment(template: Template): Record<string, string> {
  return resourceProperties(template, 'AWS::Lambda::Function', 'PubSubStream').Environment
    .Variables;
}

describe('Construct: SsePubSub, auth.maxTokenLifetime', () => {
  it('writes the default, a day, that the stream function reads back; nothing without auth', () => {
    // Act
    const env = streamEnvironment(synthConstruct({ auth: { privateChannelPrefixes: ['p/'] } }));
    const publicEnv = streamEnvironment(synthConstruct());

    // Assess
    expect(env.AUTH_MAX_TOKEN_LIFETIME_SECONDS).toBe('86400');
    const config = readAuthConfig({ ...env, AUTH_SECRET_ARN: 'arn:aws:x' });
    expect(config.maxTokenLifetimeSeconds).toBe(86_400);
    expect(publicEnv).not.toHaveProperty('AUTH_MAX_TOKEN_LIFETIME_SECONDS');
  });

  it('writes a given lifetime in seconds', () => {
    const env = streamEnvironment(
      synthConstruct({
        auth: { privateChannelPrefixes: ['p/'], maxTokenLifetime: Duration.hours(2) },
      }),
    );
    expect(env.AUTH_MAX_TOKEN_LIFETIME_SECONDS).toBe('7200');
  });

  it.each([
    ['a fraction of a second', Duration.millis(1500), 'got 1.5 seconds'],
    ['less than a second', Duration.millis(500), 'got 0.5 seconds'],
    ['zero', Duration.seconds(0), 'got 0 seconds'],
  ])('rejects %s, naming the prop', (_name, maxTokenLifetime, shown) => {
    const build = () =>
      synthConstruct({ auth: { privateChannelPrefixes: ['p/'], maxTokenLifetime } });
    expect(build).toThrow(SsePubSubConfigError);
    expect(build).toThrow('auth.maxTokenLifetime must be whole seconds, at least 1 second');
    expect(build).toThrow(shown);
  });
});
