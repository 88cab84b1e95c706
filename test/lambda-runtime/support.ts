/**
 * Shared pieces of the Lambda fidelity tests: the functions from cdk.out configured for
 * DynamoDB Local, and small waiting helpers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import type { LambdaHarnessContext } from './global-setup.js';
import type { SynthesizedFunction } from './harness/cdk-assets.js';
import { LambdaFunction } from './harness/lambda-function.js';

/**
 * True under vitest.lambda.config.ts. The default config's `test/**` glob also finds
 * these files; there they skip, since the runtime and the bundles are not set up.
 */
export const lambdaTestsEnabled = process.env.LAMBDA_RUNTIME_TESTS === '1';

export function harnessContext(): LambdaHarnessContext {
  return inject('lambdaHarness');
}

/**
 * The function's environment from the template, with its references (the table name,
 * the queue URL) filled from `values`, and `values` on top. Throws when a reference is
 * left unfilled, so a new variable in the stack cannot go unnoticed here.
 */
export function functionEnvironment(
  fn: SynthesizedFunction,
  values: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(fn.environment)) {
    const given = values[name] ?? value;
    if (given === undefined) {
      throw new Error(`${fn.logicalId}: ${name} is a reference in the template; give it a value`);
    }
    env[name] = given;
  }
  return { ...env, ...values };
}

/** Where the functions' AWS SDK clients go: DynamoDB Local, with any credentials. */
export function dynamoEndpointEnv(): Record<string, string> {
  return { AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint') };
}

export function createFunction(
  name: string,
  fn: SynthesizedFunction,
  environment: Record<string, string>,
  options: { timeoutMs?: number } = {},
): LambdaFunction {
  const ctx = harnessContext();
  return new LambdaFunction(
    {
      name,
      taskRoot: fn.assetDir,
      handler: fn.handler,
      memoryMb: fn.memoryMb,
      timeoutMs: options.timeoutMs ?? fn.timeoutSeconds * 1000,
      environment,
    },
    ctx.install,
  );
}

/** Waits until `condition` holds, checking every 10 ms; throws `message` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  message: string | (() => string),
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(typeof message === 'function' ? message() : message);
    }
    await sleep(10);
  }
}
