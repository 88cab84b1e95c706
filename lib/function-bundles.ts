/**
 * The Lambda functions' code: one minified ESM bundle each, built by esbuild with the
 * options below. Where the bundle comes from depends on how this construct is loaded:
 *
 * - from this repository's TypeScript sources (`cdk synth` here, the tests):
 *   `NodejsFunction` bundles `functions/<name>.ts` at synth time with the local esbuild;
 * - from the published package (`@serverless-sse-pubsub/cdk`, compiled JavaScript): the
 *   bundles built when the package was packed, shipped in it (`dist/bundles/<name>`), so a
 *   consumer's synth needs neither esbuild nor these sources.
 *
 * Both produce the same `index.mjs` with handler `index.handler`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { SsePubSubConfigError } from './errors.js';

export type FunctionName = 'writer' | 'stream';
export const FUNCTION_NAMES: readonly FunctionName[] = ['writer', 'stream'];

/** The Node version the bundles target: the functions' runtime, `nodejs22.x`. */
export const BUNDLE_TARGET = 'node22';

/**
 * ESM bundles cannot call `require`, yet some CommonJS dependencies do (for Node
 * built-ins); esbuild's `__require` shim finds this one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __ssePubSubCreateRequire } from 'node:module'; const require = __ssePubSubCreateRequire(import.meta.url);";

/**
 * esbuild's options for every function bundle, in esbuild's own names: what the package
 * build and the benchmark pass to esbuild, and what {@link BUNDLING} tells `NodejsFunction`.
 * The AWS SDK is bundled rather than taken from the runtime, to pin its version.
 */
export const ESBUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: BUNDLE_TARGET,
  minify: true,
  sourcemap: true,
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
} as const;

/** {@link ESBUILD_OPTIONS} as `NodejsFunction` takes them. */
const BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  minify: ESBUILD_OPTIONS.minify,
  sourceMap: ESBUILD_OPTIONS.sourcemap,
  target: ESBUILD_OPTIONS.target,
  mainFields: [...ESBUILD_OPTIONS.mainFields],
  banner: ESBUILD_OPTIONS.banner.js,
  externalModules: [],
  forceDockerBundling: false,
};

/** The handler module of each function, in this repository's source tree. */
export function sourceEntry(name: FunctionName): string {
  return fileURLToPath(new URL(`../functions/handlers/${name}.ts`, import.meta.url));
}

/**
 * Where the package keeps a function's prebuilt bundle: beside the compiled modules
 * (`dist/lib/…` → `dist/bundles/<name>`).
 */
export function prebuiltBundleDir(name: FunctionName): string {
  return fileURLToPath(new URL(`../bundles/${name}`, import.meta.url));
}

/** Compiled JavaScript means the published package: its bundles are prebuilt. */
const LOADED_FROM_SOURCE = import.meta.url.endsWith('.ts');

export type BundledFunctionProps = Omit<lambda.FunctionProps, 'code' | 'handler'>;

/** A function whose code is the bundle of `functions/<name>.ts`, exporting `handler`. */
export function bundledFunction(
  scope: Construct,
  id: string,
  name: FunctionName,
  props: BundledFunctionProps,
): lambda.Function {
  if (LOADED_FROM_SOURCE) {
    return new NodejsFunction(scope, id, {
      ...props,
      entry: sourceEntry(name),
      handler: 'handler',
      bundling: BUNDLING,
    });
  }
  const dir = prebuiltBundleDir(name);
  if (!existsSync(join(dir, 'index.mjs'))) {
    throw new SsePubSubConfigError(
      `the prebuilt ${name} function bundle is missing (${dir}): this copy of the package ` +
        'was not built; `npm pack` builds it (npm run build in lib/)',
    );
  }
  return new lambda.Function(scope, id, {
    ...props,
    code: lambda.Code.fromAsset(dir),
    handler: 'index.handler',
  });
}
