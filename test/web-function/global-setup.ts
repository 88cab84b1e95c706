/**
 * Global setup of the Web Function tests (vitest.web-function.config.ts): installs Node 24
 * (`scripts/setup-node24.sh`), synthesizes the stack with the Web Function host
 * (`-c ssePubSub:subscribeHost=webFunction`, into cdk.out.web-function) when stale, and
 * copies the revision's bundle out of it, so a synth during the run cannot change it.
 * DynamoDB Local comes from test/support/dynamodb-local.global.ts.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import {
  type SynthesizedWebFunction,
  synthesizedWebFunction,
  synthWebFunctionIfStale,
  WEB_FUNCTION_CDK_OUT,
} from './harness/synthesized-web-function.js';

export interface WebFunctionHarnessContext {
  readonly nodeBin: string;
  readonly nodeVersion: string;
  readonly webFunction: SynthesizedWebFunction;
}

declare module 'vitest' {
  export interface ProvidedContext {
    webFunctionHarness: WebFunctionHarnessContext;
  }
}

const ROOT = resolve(import.meta.dirname, '..', '..');

export default async function setup(project: TestProject): Promise<() => void> {
  const install = spawnSync('bash', [join(ROOT, 'scripts', 'setup-node24.sh')], {
    encoding: 'utf8',
  });
  const nodeBin = install.stdout.trim().split('\n').at(-1) ?? '';
  if (install.status !== 0 || nodeBin === '') {
    throw new Error(`scripts/setup-node24.sh failed:\n${install.stderr}`);
  }
  const nodeVersion = spawnSync(nodeBin, ['-v'], { encoding: 'utf8' }).stdout.trim();
  const synth = await synthWebFunctionIfStale(ROOT);
  const synthesized = synthesizedWebFunction(join(ROOT, WEB_FUNCTION_CDK_OUT));
  // Two levels below the root, like the asset folders, so that the source maps' relative
  // paths (../../functions/…) still point at the sources in stack traces.
  const dir = join(ROOT, '.web-function-runtime', `task-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  cpSync(synthesized.assetDir, dir, { recursive: true });
  const webFunction = { ...synthesized, assetDir: dir };
  console.log(
    `web function harness: node ${nodeVersion}, ${WEB_FUNCTION_CDK_OUT} ${synth}; ` +
      `revision ${webFunction.logicalId} (${webFunction.runtime}, timeout ${webFunction.timeoutSeconds} s)`,
  );
  project.provide('webFunctionHarness', { nodeBin, nodeVersion, webFunction });
  return () => rmSync(dir, { recursive: true, force: true });
}
