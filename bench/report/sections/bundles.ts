/** The "Lambda bundles" section: sizes, cold module init and connections opened at import. */
import { type Emit, kb, largestInputs, ms, pct, table } from '../format.js';
import type { BenchResults } from '../types.js';

export function bundlesSection(p: Emit, r: BenchResults): void {
  p('## Lambda bundles');
  p();
  p(
    'Built with esbuild using the options of `lib/function-bundles.ts` (ESM, minified, target node22, main fields module,main, the createRequire banner, the AWS SDK bundled). ' +
      `Cold module init = \`await import()\` of the bundle in a fresh \`node\` process (Node ${r.machine.node} here; Lambda runs nodejs22.x), with the function's environment variables set; median of several runs, after one unmeasured run. ` +
      'The importing script counts TCP connections opened during and just after the import (every AWS SDK request opens one), with the AWS endpoint pointed at a closed local port: an import must open none. ' +
      'The deployed functions set `NODE_OPTIONS=--enable-source-maps`, which makes Node read the 1.8 MB source map at import; both are shown. ' +
      "Lambda's own runtime start (before the import) is not included.",
  );
  p();
  p(
    table(
      [
        'Function',
        'Minified',
        'Gzipped',
        'AWS SDK share',
        'Own code',
        'Init (median)',
        'Init with source maps',
        'Process start → ready',
        'Connections opened at import',
        'Largest packages',
      ],
      r.bundles.map((b) => [
        b.name,
        `${kb(b.bytes)} (${b.bytes} B)`,
        kb(b.gzipBytes),
        `${kb(b.awsSdkBytes)} (${pct(b.awsSdkBytes / b.bytes)})`,
        kb(b.ownBytes),
        ms(b.initMs),
        ms(b.initWithSourceMapsMs),
        ms(b.processToReadyMs),
        b.requestsAtImport,
        largestInputs(b),
      ]),
    ),
  );
  p();
}
