/**
 * Global setup of the Lambda fidelity tests (vitest.lambda.config.ts): checks that
 * `scripts/setup-lambda-runtime.sh` installed Node 22 and the runtime interface client,
 * runs `npx cdk synth --quiet` when cdk.out is missing or older than the sources, and
 * copies the two bundles out of cdk.out (so a synth during the run cannot change them).
 * DynamoDB Local comes from test/support/dynamodb-local.global.ts.
 */
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import {
  copyAsset,
  readRuntimeInstall,
  type SynthesizedFunction,
  synthesizedFunction,
  synthIfStale,
} from './harness/cdk-assets.js';
import type { RuntimeInstall } from './harness/lambda-function.js';

export interface LambdaHarnessContext {
  readonly install: RuntimeInstall;
  readonly stream: SynthesizedFunction;
  readonly writer: SynthesizedFunction;
}

declare module 'vitest' {
  export interface ProvidedContext {
    lambdaHarness: LambdaHarnessContext;
  }
}

const ROOT = resolve(import.meta.dirname, '..', '..');

export default async function setup(project: TestProject): Promise<() => void> {
  const install = readRuntimeInstall(ROOT);
  const synth = await synthIfStale(ROOT);
  const cdkOut = join(ROOT, 'cdk.out');
  // Two levels below the root, like cdk.out/asset.*, so that the source maps' relative
  // paths (../../functions/…) still point at the sources in stack traces.
  const prefix = join(ROOT, '.lambda-runtime', `task-${process.pid}-`);
  const dirs = { stream: `${prefix}stream`, writer: `${prefix}writer` };
  const stream = copyAsset(synthesizedFunction(cdkOut, 'PubSubStream'), dirs.stream);
  const writer = copyAsset(synthesizedFunction(cdkOut, 'PubSubWriter'), dirs.writer);
  console.log(
    `lambda harness: node ${install.nodeVersion}, aws-lambda-ric ${install.ricVersion}, ` +
      `cdk.out ${synth}; stream ${stream.logicalId}, writer ${writer.logicalId}`,
  );
  project.provide('lambdaHarness', { install, stream, writer });
  return () => {
    for (const dir of Object.values(dirs)) rmSync(dir, { recursive: true, force: true });
  };
}
