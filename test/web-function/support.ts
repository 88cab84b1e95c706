/**
 * Shared pieces of the Web Function tests: the revision's environment filled in for
 * DynamoDB Local, and starting the bundle with it.
 */
import { inject } from 'vitest';
import type { WebFunctionHarnessContext } from './global-setup.js';
import { startWebServer, type WebServerProcess } from './harness/web-server-process.js';

export function harnessContext(): WebFunctionHarnessContext {
  return inject('webFunctionHarness');
}

/**
 * The revision's environment from the template, with its references (the table name)
 * filled from `values`, and `values` on top; AWS credentials and the DynamoDB Local
 * endpoint as Lambda's environment and a developer's shell would give them. Throws when
 * a reference is left unfilled, so a new variable in the stack cannot go unnoticed here.
 */
export function revisionEnvironment(
  values: Readonly<Record<string, string>>,
): Record<string, string> {
  const { webFunction } = harnessContext();
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(webFunction.environment)) {
    const given = values[name] ?? value;
    if (given === undefined) {
      throw new Error(
        `${webFunction.logicalId}: ${name} is a reference in the template; give it a value`,
      );
    }
    env[name] = given;
  }
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    ...env,
    ...values,
  };
}

/** Starts the synthesized bundle under Node 24 with `environment`. */
export function startBundle(environment: Record<string, string>): Promise<WebServerProcess> {
  const { nodeBin, webFunction } = harnessContext();
  return startWebServer({
    nodeBin,
    bundleDir: webFunction.assetDir,
    entryPoint: webFunction.entryPoint,
    environment,
  });
}
