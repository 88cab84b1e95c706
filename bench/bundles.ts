/**
 * The Lambda bundles: built here with esbuild using the CDK construct's options
 * (lib/function-bundles.ts `ESBUILD_OPTIONS`: ESM, minified, node22, `module,main` main
 * fields, the createRequire banner, the AWS SDK bundled), then sized and imported by
 * fresh `node` processes to time module initialisation (median of several runs).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { ENV } from '../functions/config/environment.js';
import { ESBUILD_OPTIONS, sourceEntry } from '../lib/function-bundles.js';
import { median } from './lib/stats.js';

export interface BundleResult {
  readonly name: 'stream' | 'writer';
  readonly bytes: number;
  readonly gzipBytes: number;
  /** Bytes of the output that come from `@aws-sdk/*` and `@smithy/*`. */
  readonly awsSdkBytes: number;
  /** Bytes that come from this repository's own code (`functions/…`). */
  readonly ownBytes: number;
  /** The biggest contributors to the minified output, by package. */
  readonly topInputs: readonly { readonly module: string; readonly bytes: number }[];
  /** Median `import()` time of the bundle in a fresh process, ms. */
  readonly initMs: number;
  readonly initRunsMs: readonly number[];
  /** The same with NODE_OPTIONS=--enable-source-maps, as the CDK stack deploys it. */
  readonly initWithSourceMapsMs: number;
  /** Median time from process start to the end of the import, ms. */
  readonly processToReadyMs: number;
  /** TCP connections the import opened, over all runs (AWS calls at import): must be 0. */
  readonly requestsAtImport: number;
}

const ENTRIES = {
  stream: {
    entry: sourceEntry('stream'),
    env: {
      [ENV.tableName]: 'bench-events',
      [ENV.powertoolsServiceName]: 'sse-pubsub-stream',
    },
  },
  writer: {
    entry: sourceEntry('writer'),
    env: {
      [ENV.tableName]: 'bench-events',
      [ENV.deadLetterQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/000000000000/bench-dlq',
      [ENV.powertoolsServiceName]: 'sse-pubsub-writer',
      [ENV.powertoolsMetricsNamespace]: 'SsePubSub',
    },
  },
} as const;

/** Groups an esbuild input path by package (or by source folder). */
function moduleOf(path: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (match?.[1] !== undefined) return match[1];
  return path.split('/').slice(0, 2).join('/');
}

/**
 * Run with `node --input-type=module -e`. It counts outgoing TCP connections (every
 * HTTP(S) request of the AWS SDK opens one through `net.Socket#connect`), times the
 * import, then waits a moment so that a request started by the import is counted too.
 */
const IMPORT_SCRIPT = [
  "import net from 'node:net';",
  'let connections = 0;',
  'const connect = net.Socket.prototype.connect;',
  'net.Socket.prototype.connect = function (...args) { connections += 1; return connect.apply(this, args); };',
  'const t0 = performance.now();',
  'await import(process.env.BENCH_BUNDLE_URL);',
  'const t1 = performance.now();',
  'await new Promise((resolve) => setTimeout(resolve, 100));',
  'process.stdout.write(JSON.stringify({ importMs: t1 - t0, sinceStartMs: t1, requests: connections }));',
].join('\n');

interface ImportTiming {
  readonly importMs: number;
  readonly sinceStartMs: number;
  /** TCP connections opened during or right after the import: must be 0. */
  readonly requests: number;
}

function timeImport(
  file: string,
  env: Readonly<Record<string, string>>,
  sourceMaps: boolean,
): ImportTiming {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', IMPORT_SCRIPT], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_EC2_METADATA_DISABLED: 'true',
      // Should anything call AWS at import, it goes nowhere (and is counted).
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      NODE_NO_WARNINGS: '1',
      ...(sourceMaps ? { [ENV.nodeOptions]: '--enable-source-maps' } : {}),
      ...env,
      BENCH_BUNDLE_URL: pathToFileURL(file).href,
    },
  });
  if (result.status !== 0) {
    throw new Error(`importing ${file} failed: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as ImportTiming;
}

export async function measureBundles(runs = 7): Promise<BundleResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sse-bench-bundles-'));
  try {
    const results: BundleResult[] = [];
    for (const name of ['stream', 'writer'] as const) {
      const { entry, env } = ENTRIES[name];
      const outfile = join(dir, name, 'index.mjs');
      const built = await build({
        entryPoints: [entry],
        ...ESBUILD_OPTIONS,
        mainFields: [...ESBUILD_OPTIONS.mainFields],
        outfile,
        metafile: true,
        logLevel: 'error',
      });
      const code = readFileSync(outfile);
      const byModule = new Map<string, number>();
      for (const output of Object.values(built.metafile.outputs)) {
        for (const [path, input] of Object.entries(output.inputs)) {
          const module = moduleOf(path);
          byModule.set(module, (byModule.get(module) ?? 0) + input.bytesInOutput);
        }
      }
      const topInputs = [...byModule.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 10)
        .map(([module, bytes]) => ({ module, bytes }));

      // One unmeasured run warms the OS file cache.
      timeImport(outfile, env, false);
      const plain = Array.from({ length: runs }, () => timeImport(outfile, env, false));
      const mapped = Array.from({ length: runs }, () => timeImport(outfile, env, true));
      let awsSdkBytes = 0;
      let ownBytes = 0;
      for (const [module, bytes] of byModule) {
        if (module.startsWith('@aws-sdk/') || module.startsWith('@smithy/')) awsSdkBytes += bytes;
        if (module.startsWith('functions/')) ownBytes += bytes;
      }
      results.push({
        name,
        bytes: code.byteLength,
        awsSdkBytes,
        ownBytes,
        gzipBytes: gzipSync(code).byteLength,
        topInputs,
        initMs: median(plain.map((r) => r.importMs)),
        initRunsMs: plain.map((r) => r.importMs),
        initWithSourceMapsMs: median(mapped.map((r) => r.importMs)),
        processToReadyMs: median(plain.map((r) => r.sinceStartMs)),
        requestsAtImport: [...plain, ...mapped].reduce((n, r) => n + r.requests, 0),
      });
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
