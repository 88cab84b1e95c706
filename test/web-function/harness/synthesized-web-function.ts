/**
 * What `cdk synth` built for the Web Function host: the template's
 * `AWS::Lambda::WebFunctionRevision` gives the runtime, timeout, concurrency, entry point
 * and environment; its code is the object a `Custom::S3ObjectCopy` copies, whose
 * `SourceObjectKey` (`<hash>.zip`) names the bundle's folder, `<out>/asset.<hash>`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { newestMtime, STACK_NAME } from '../../lambda-runtime/harness/cdk-assets.js';

/** Where the Web Function host's synth goes, beside cdk.out (the default host's). */
export const WEB_FUNCTION_CDK_OUT = 'cdk.out.web-function';
/** The context that picks the host, as a user types it. */
export const WEB_FUNCTION_CONTEXT = 'ssePubSub:subscribeHost=webFunction';

export interface SynthesizedWebFunction {
  readonly logicalId: string;
  readonly assetDir: string;
  readonly runtime: string;
  readonly entryPoint: string;
  readonly timeoutSeconds: number;
  readonly maxConcurrencyPerEnvironment: number;
  /** Literal values as given; references (the table name) as `undefined`. */
  readonly environment: Readonly<Record<string, string | undefined>>;
}

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};

/** Reads the one Web Function revision of the template in `cdkOut`. */
export function synthesizedWebFunction(cdkOut: string): SynthesizedWebFunction {
  const template = JSON.parse(
    readFileSync(join(cdkOut, `${STACK_NAME}.template.json`), 'utf8'),
  ) as { Resources: Record<string, Resource> };
  const resources = Object.entries(template.Resources);
  const revisions = resources.filter(([, r]) => r.Type === 'AWS::Lambda::WebFunctionRevision');
  const [revision, ...others] = revisions;
  if (revision === undefined || others.length > 0) {
    throw new Error(
      `expected one AWS::Lambda::WebFunctionRevision in ${cdkOut}, found ${revisions.length}`,
    );
  }
  const [logicalId, resource] = revision;
  const props = record(resource.Properties);
  const build = record(props.BuildConfig);
  const service = record(props.ServiceConfig);
  const key = record(record(record(build.CodeConfig).S3Object).Key)['Fn::GetAtt'];
  const copyId = Array.isArray(key) ? key[0] : undefined;
  const copy = typeof copyId === 'string' ? template.Resources[copyId] : undefined;
  const source = record(copy?.Properties).SourceObjectKey;
  if (copy?.Type !== 'Custom::S3ObjectCopy' || typeof source !== 'string') {
    throw new Error(`${logicalId}: its code is not an asset copied by Custom::S3ObjectCopy`);
  }
  const assetDir = join(cdkOut, `asset.${source.replace(/\.zip$/, '')}`);
  const environment: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(record(service.EnvironmentVariables))) {
    environment[name] = typeof value === 'string' ? value : undefined;
  }
  const entryPoint = environment.AWS_LAMBDA_NODEJS_ENTRYPOINT ?? 'index.js';
  if (!existsSync(join(assetDir, entryPoint))) {
    throw new Error(`${logicalId}: ${join(assetDir, entryPoint)} is missing`);
  }
  return {
    logicalId,
    assetDir,
    runtime: String(record(build.RuntimeConfig).Runtime),
    entryPoint,
    timeoutSeconds: Number(service.TimeoutSeconds),
    maxConcurrencyPerEnvironment: Number(service.MaxConcurrencyPerEnvironment),
    environment,
  };
}

/**
 * Runs `npx cdk synth --quiet -c ssePubSub:subscribeHost=webFunction` into
 * {@link WEB_FUNCTION_CDK_OUT} when its template is missing or older than the sources.
 */
export async function synthWebFunctionIfStale(
  root: string,
  timeoutMs = 300_000,
): Promise<'fresh' | 'synthesized'> {
  const out = join(root, WEB_FUNCTION_CDK_OUT);
  const template = join(out, `${STACK_NAME}.template.json`);
  const sources = ['functions', 'lib', 'bin', 'cdk.json', 'package-lock.json'].map((p) =>
    join(root, p),
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(template) && statSync(template).mtimeMs >= newestMtime(sources)) return 'fresh';
    const result = spawnSync(
      'npx',
      ['cdk', 'synth', '--quiet', '-c', WEB_FUNCTION_CONTEXT, '--output', out],
      { cwd: root, encoding: 'utf8', timeout: Math.max(1_000, deadline - Date.now()) },
    );
    if (result.status === 0) return 'synthesized';
    const output = `${result.stdout}\n${result.stderr}`;
    if (/Another CLI .* is currently synthing/.test(output) && Date.now() < deadline) {
      await sleep(2_000);
      continue;
    }
    throw new Error(
      `npx cdk synth -c ${WEB_FUNCTION_CONTEXT} failed (${result.status ?? result.signal}):\n${output}`,
    );
  }
}
