/**
 * Finds what `cdk synth` built for the functions: the template gives each function's
 * handler, memory, timeout and environment, and its `Code.S3Key` (`<hash>.zip`) names
 * the bundle's folder, `cdk.out/asset.<hash>`.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RuntimeInstall } from './lambda-function.js';

export const STACK_NAME = 'SsePubSub';

/** A function as the synthesized template declares it. */
export interface SynthesizedFunction {
  readonly logicalId: string;
  readonly assetDir: string;
  readonly handler: string;
  readonly runtime: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Literal values as given; references (table name, queue URL) as `undefined`. */
  readonly environment: Readonly<Record<string, string | undefined>>;
}

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: {
    readonly Code?: { readonly S3Key?: unknown };
    readonly Handler?: string;
    readonly Runtime?: string;
    readonly MemorySize?: number;
    readonly Timeout?: number;
    readonly Environment?: { readonly Variables?: Record<string, unknown> };
  };
}

/** Reads the function whose logical id starts with `logicalIdPrefix` (e.g. `PubSubStream`). */
export function synthesizedFunction(cdkOut: string, logicalIdPrefix: string): SynthesizedFunction {
  const template = JSON.parse(
    readFileSync(join(cdkOut, `${STACK_NAME}.template.json`), 'utf8'),
  ) as { Resources: Record<string, TemplateResource> };
  const matches = Object.entries(template.Resources).filter(
    ([id, r]) =>
      r.Type === 'AWS::Lambda::Function' &&
      id.startsWith(logicalIdPrefix) &&
      /^[0-9A-F]{8}$/.test(id.slice(logicalIdPrefix.length)),
  );
  const [match, ...others] = matches;
  if (match === undefined || others.length > 0) {
    throw new Error(
      `expected one AWS::Lambda::Function ${logicalIdPrefix}XXXXXXXX in the template, found ${matches.length}`,
    );
  }
  const [logicalId, resource] = match;
  const props = resource.Properties ?? {};
  const key = props.Code?.S3Key;
  if (typeof key !== 'string' || !key.endsWith('.zip')) {
    throw new Error(`${logicalId}: Code.S3Key is not an asset zip: ${JSON.stringify(key)}`);
  }
  const assetDir = join(cdkOut, `asset.${key.slice(0, -'.zip'.length)}`);
  if (!existsSync(join(assetDir, 'index.mjs'))) {
    throw new Error(`${logicalId}: ${assetDir}/index.mjs is missing; run npx cdk synth`);
  }
  const environment: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(props.Environment?.Variables ?? {})) {
    environment[name] = typeof value === 'string' ? value : undefined;
  }
  return {
    logicalId,
    assetDir,
    handler: props.Handler ?? 'index.handler',
    runtime: props.Runtime ?? 'unknown',
    memoryMb: props.MemorySize ?? 128,
    timeoutSeconds: props.Timeout ?? 3,
    environment,
  };
}

/** Copies a bundle to `dir` (Lambda runs an unpacked copy; a later synth cannot change it). */
export function copyAsset(fn: SynthesizedFunction, dir: string): SynthesizedFunction {
  rmSync(dir, { recursive: true, force: true });
  cpSync(fn.assetDir, dir, { recursive: true });
  return { ...fn, assetDir: dir };
}

/** Newest modification time of the files under `paths` (folders walked, node_modules skipped). */
export function newestMtime(paths: readonly string[]): number {
  let newest = 0;
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) {
        if (entry !== 'node_modules' && !entry.startsWith('.')) visit(join(path, entry));
      }
    } else {
      newest = Math.max(newest, stat.mtimeMs);
    }
  };
  for (const path of paths) visit(path);
  return newest;
}

/**
 * Runs `npx cdk synth --quiet` when the template is missing or older than the sources it
 * is built from. When another synth holds cdk.out, waits for it and looks again.
 */
export async function synthIfStale(
  root: string,
  timeoutMs = 300_000,
): Promise<'fresh' | 'synthesized'> {
  const template = join(root, 'cdk.out', `${STACK_NAME}.template.json`);
  const sources = ['functions', 'lib', 'bin', 'cdk.json', 'package-lock.json'].map((p) =>
    join(root, p),
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(template) && statSync(template).mtimeMs >= newestMtime(sources)) {
      return 'fresh';
    }
    const result = spawnSync('npx', ['cdk', 'synth', '--quiet'], {
      cwd: root,
      encoding: 'utf8',
      timeout: Math.max(1_000, deadline - Date.now()),
    });
    if (result.status === 0) return 'synthesized';
    const output = `${result.stdout}\n${result.stderr}`;
    if (/Another CLI .* is currently synthing/.test(output) && Date.now() < deadline) {
      await sleep(2_000);
      continue;
    }
    throw new Error(`npx cdk synth --quiet failed (${result.status ?? result.signal}):\n${output}`);
  }
}

/** The stamp `scripts/setup-lambda-runtime.sh` writes when Node 22 and the ric are built. */
export function readRuntimeInstall(root: string): RuntimeInstall {
  const stamp = join(root, '.lambda-runtime', 'ready.json');
  if (!existsSync(stamp)) {
    throw new Error(
      'The Lambda runtime for these tests is not installed: run `bash scripts/setup-lambda-runtime.sh` ' +
        '(Node 22 and aws-lambda-ric from the npm registry, autotools from apt; about a minute).',
    );
  }
  const ready = JSON.parse(readFileSync(stamp, 'utf8')) as {
    node: string;
    nodeBin: string;
    ric: string;
    ricDir: string;
  };
  for (const file of [
    ready.nodeBin,
    join(ready.ricDir, 'index.mjs'),
    join(ready.ricDir, 'rapid-client.node'),
  ]) {
    if (!existsSync(file)) {
      throw new Error(`${file} is missing: run \`bash scripts/setup-lambda-runtime.sh\` again`);
    }
  }
  return {
    nodeBin: ready.nodeBin,
    ricDir: ready.ricDir,
    nodeVersion: ready.node,
    ricVersion: ready.ric,
  };
}
