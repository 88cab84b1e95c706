/**
 * Reads the HS256 token secret from AWS Secrets Manager (`AUTH_SECRET_ARN`), once per
 * cold start. The secret's `SecretString` is the secret itself (the CDK construct
 * generates it); rotating it invalidates the tokens signed with the old value as soon as
 * new instances start, and running instances keep the old one until they are recycled.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { signingSecret } from '../../auth/auth-config.js';
import { ConfigError } from '../../config/env.js';

/**
 * @throws ConfigError naming the ARN when the secret cannot be read, holds no
 * `SecretString`, or is shorter than 32 bytes. The secret's value is never in a message.
 */
export async function fetchSigningSecret(
  client: Pick<SecretsManagerClient, 'send'>,
  secretArn: string,
): Promise<Uint8Array> {
  let text: string | undefined;
  try {
    const output = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    text = output.SecretString;
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new ConfigError(
      `cannot read the token secret ${secretArn} (AUTH_SECRET_ARN): ${reason}`,
      { cause: error },
    );
  }
  if (text === undefined || text === '') {
    throw new ConfigError(
      `the token secret ${secretArn} (AUTH_SECRET_ARN) has no SecretString; store the HS256 secret as text`,
    );
  }
  return signingSecret(text, `the token secret ${secretArn} (AUTH_SECRET_ARN)`);
}
