/**
 * The Lambda code: one minified ESM bundle per entry, built by esbuild with the options
 * below: the writer and stream functions (`index.handler`) and the Web Function server
 * (`web-server`, a Node HTTP server started by `index.mjs`). Where a bundle comes from
 * depends on how this construct is loaded:
 *
 * - from this repository's TypeScript sources (`cdk synth` here, the tests): bundled at
 *   synth time with the local esbuild, `functions/handlers/<name>.ts` (`NodejsFunction` for
 *   the functions, a local bundling step of the Web Function's asset for the server; no
 *   Docker either way);
 * - from the published package (`@serverless-sse-pubsub/cdk`, compiled JavaScript): the
 *   bundles built when the package was packed, shipped in it (`dist/bundles/<name>`), so a
 *   consumer's synth needs neither esbuild nor these sources.
 *
 * Both produce the same `index.mjs`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { SsePubSubConfigError } from './errors.js';

export type FunctionName = 'writer' | 'stream';
export const FUNCTION_NAMES: readonly FunctionName[] = ['writer', 'stream'];
/** The Web Function server's bundle. */
export const WEB_SERVER_BUNDLE = 'web-server';
/** Every bundle the package ships: the functions' and the Web Function server's. */
export type BundleName = FunctionName | typeof WEB_SERVER_BUNDLE;
export const BUNDLE_NAMES: readonly BundleName[] = [...FUNCTION_NAMES, WEB_SERVER_BUNDLE];

/** The Node version the function bundles target: the functions' runtime, `nodejs22.x`. */
export const BUNDLE_TARGET = 'node22';
/** The Node version the server bundle targets: Web Functions run `nodejs24.x` only. */
export const WEB_SERVER_BUNDLE_TARGET = 'node24';
/** The file of the server bundle the Web Function runtime starts (its `entryPoint`). */
export const WEB_SERVER_ENTRY_POINT = 'index.mjs';

/** The esbuild target of a bundle. */
export function bundleTarget(name: BundleName): string {
  return name === WEB_SERVER_BUNDLE ? WEB_SERVER_BUNDLE_TARGET : BUNDLE_TARGET;
}

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

/** The entry module of each bundle, in this repository's source tree. */
export function sourceEntry(name: BundleName): string {
  return fileURLToPath(new URL(`../functions/handlers/${name}.ts`, import.meta.url));
}

/**
 * Where the package keeps a function's prebuilt bundle: beside the compiled modules
 * (`dist/lib/…` → `dist/bundles/<name>`).
 */
export function prebuiltBundleDir(name: BundleName): string {
  return fileURLToPath(new URL(`../bundles/${name}`, import.meta.url));
}

/** The folder of a prebuilt bundle, or an error that says how to build it. */
function prebuiltBundle(name: BundleName): string {
  const dir = prebuiltBundleDir(name);
  if (!existsSync(join(dir, 'index.mjs'))) {
    throw new SsePubSubConfigError(
      `the prebuilt ${name} function bundle is missing (${dir}): this copy of the package ` +
        'was not built; `npm pack` builds it (npm run build in lib/)',
    );
  }
  return dir;
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
  return new lambda.Function(scope, id, {
    ...props,
    code: lambda.Code.fromAsset(prebuiltBundle(name)),
    handler: 'index.handler',
  });
}

/**
 * The name the server's asset carries in the cloud assembly's asset manifest
 * (`<stack>.assets.json`, `files.<hash>.displayName`), to find its staged folder by.
 */
export const WEB_SERVER_ASSET_DISPLAY_NAME = 'SsePubSub web-server bundle';

/**
 * The Web Function server's code (`index.mjs`, its `entryPoint`), staged into the
 * stack's managed code bucket. `copyOptions` configure the custom resource that copies
 * it there.
 */
export function webServerCode(
  copyOptions: lambda.WebFunctionCodeCopyOptions,
): lambda.WebFunctionCode {
  if (!LOADED_FROM_SOURCE) {
    return lambda.WebFunctionCode.fromAssetToManagedBucket(prebuiltBundle(WEB_SERVER_BUNDLE), {
      displayName: WEB_SERVER_ASSET_DISPLAY_NAME,
      copyOptions,
    });
  }
  const entry = sourceEntry(WEB_SERVER_BUNDLE);
  // The asset's source is the functions' tree; its hash is the bundle's (OUTPUT), as
  // NodejsFunction hashes its bundles. Bundling runs here with esbuild, a development
  // dependency: required only now, in source mode, never by the published package.
  return lambda.WebFunctionCode.fromAssetToManagedBucket(
    fileURLToPath(new URL('../functions', import.meta.url)),
    {
      displayName: WEB_SERVER_ASSET_DISPLAY_NAME,
      assetHashType: AssetHashType.OUTPUT,
      copyOptions,
      bundling: {
        // Required by the type, never pulled or run: tryBundle always bundles locally.
        image: DockerImage.fromRegistry('sse-pubsub-local-bundling-only'),
        local: {
          tryBundle(outputDir: string): boolean {
            const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
            esbuild.buildSync({
              ...ESBUILD_OPTIONS,
              target: WEB_SERVER_BUNDLE_TARGET,
              mainFields: [...ESBUILD_OPTIONS.mainFields],
              entryPoints: [entry],
              outfile: join(outputDir, WEB_SERVER_ENTRY_POINT),
              logLevel: 'warning',
            });
            return true;
          },
        },
      },
    },
  );
}
