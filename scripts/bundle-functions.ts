/**
 * Builds the Lambda bundles the published construct ships (`<outDir>/<name>/index.mjs`
 * and its source map): the writer and stream functions (target node22) and the Web
 * Function server (`web-server`, target node24), with the same esbuild options the
 * construct's source mode uses. Run by the package build:
 * `tsx scripts/bundle-functions.ts <outDir>`.
 */
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import {
  BUNDLE_NAMES,
  bundleTarget,
  ESBUILD_OPTIONS,
  sourceEntry,
} from '../lib/function-bundles.js';

const [outDir] = process.argv.slice(2);
if (outDir === undefined) {
  console.error('usage: tsx scripts/bundle-functions.ts <outDir>');
  process.exit(2);
}
for (const name of BUNDLE_NAMES) {
  const outfile = join(resolve(outDir), name, 'index.mjs');
  await build({
    ...ESBUILD_OPTIONS,
    target: bundleTarget(name),
    mainFields: [...ESBUILD_OPTIONS.mainFields],
    entryPoints: [sourceEntry(name)],
    outfile,
    logLevel: 'warning',
  });
  console.log(`${name}: ${outfile}`);
}
