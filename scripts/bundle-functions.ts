/**
 * Builds the Lambda bundles the published construct ships (`<outDir>/<name>/index.mjs`
 * and its source map), with the same esbuild options the construct's source mode gives
 * `NodejsFunction`. Run by the package build: `tsx scripts/bundle-functions.ts <outDir>`.
 */
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import {
  ESBUILD_OPTIONS,
  FUNCTION_NAMES,
  type FunctionName,
  sourceEntry,
} from '../lib/function-bundles.js';

export async function bundleFunctions(outDir: string): Promise<Record<FunctionName, string>> {
  const outputs: Partial<Record<FunctionName, string>> = {};
  for (const name of FUNCTION_NAMES) {
    const outfile = join(outDir, name, 'index.mjs');
    await build({
      ...ESBUILD_OPTIONS,
      mainFields: [...ESBUILD_OPTIONS.mainFields],
      entryPoints: [sourceEntry(name)],
      outfile,
      logLevel: 'warning',
    });
    outputs[name] = outfile;
  }
  return outputs as Record<FunctionName, string>;
}

const [outDir] = process.argv.slice(2);
if (outDir === undefined) {
  console.error('usage: tsx scripts/bundle-functions.ts <outDir>');
  process.exit(2);
}
for (const [name, file] of Object.entries(await bundleFunctions(resolve(outDir)))) {
  console.log(`${name}: ${file}`);
}
