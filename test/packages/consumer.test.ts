/**
 * The packages as a user installs them. `npm pack` each workspace package (which builds
 * it, the construct's Lambda bundles included), then, in a new folder outside this
 * repository: a CDK app that installs the tarballs with its other dependencies from the
 * registry, synthesizes offline with no esbuild installed, type-checks against the
 * packages' types, and a Node script that publishes through the publisher package to a
 * running local stack and receives the event with the client package's `subscribe()`.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./consumer-app', import.meta.url));
const ROOT_PACKAGE = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const PACKAGES = {
  '@serverless-sse-pubsub/cdk': 'lib',
  '@serverless-sse-pubsub/publisher': 'publisher',
  '@serverless-sse-pubsub/client': 'client',
} as const;
type PackageName = keyof typeof PACKAGES;

/** A user's shell: no test settings and none of the npm variables of this run. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_|^INIT_CWD$|^VITEST|^AWS_|^POWERTOOLS_/i.test(key)) env[key] = value;
  }
  return env;
}

function run(command: string, args: readonly string[], cwd: string): string {
  const result = spawnSync(command, [...args], {
    cwd,
    env: userEnv(),
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

interface Template {
  readonly Resources: Record<
    string,
    { readonly Type: string; readonly Properties?: Record<string, unknown> }
  >;
}

describe('Packages: installed from packed tarballs into a new CDK app', () => {
  let work: string;
  let app: string;
  const tarballs = {} as Record<PackageName, string>;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'sse-pubsub-consumer-'));
    const packed = join(work, 'tarballs');
    mkdirSync(packed);
    for (const [name, folder] of Object.entries(PACKAGES) as [PackageName, string][]) {
      const printed = run(
        'npm',
        ['pack', '--json', '--pack-destination', packed, `./${folder}`],
        REPO,
      );
      // The build (prepack) prints its own lines first; npm's JSON report comes last.
      const out = JSON.parse(printed.slice(printed.search(/^\[/m))) as { filename: string }[];
      tarballs[name] = join(packed, out[0]?.filename ?? '');
      expect(existsSync(tarballs[name]), name).toBe(true);
    }

    app = join(work, 'app');
    cpSync(FIXTURE, app, { recursive: true });
    const dependencies: Record<string, string> = {
      'aws-cdk-lib': ROOT_PACKAGE.dependencies['aws-cdk-lib'] ?? '',
      constructs: ROOT_PACKAGE.dependencies.constructs ?? '',
      'aws-cdk': ROOT_PACKAGE.devDependencies['aws-cdk'] ?? '',
      '@types/node': ROOT_PACKAGE.devDependencies['@types/node'] ?? '',
    };
    for (const name of Object.keys(PACKAGES) as PackageName[]) {
      dependencies[name] = `file:${tarballs[name]}`;
    }
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify(
        { name: 'consumer-app', private: true, type: 'module', dependencies },
        null,
        2,
      ),
    );
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], app);
  }, 600_000);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('ships each package with exports, types, a README and a version, and nothing of the sources', () => {
    for (const name of Object.keys(PACKAGES) as PackageName[]) {
      const root = join(app, 'node_modules', name);
      // Installed from the tarball: a folder of its own, not a link into this repository.
      expect(lstatSync(root).isSymbolicLink(), name).toBe(false);
      const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
        version: string;
        types: string;
        exports: Record<string, { types: string; default: string }>;
      };
      expect(manifest.version, name).toMatch(/^\d+\.\d+\.\d+/);
      expect(Object.keys(manifest.exports), name).toEqual(['.']);
      expect(existsSync(join(root, manifest.exports['.']?.types ?? 'missing')), name).toBe(true);
      expect(existsSync(join(root, manifest.exports['.']?.default ?? 'missing')), name).toBe(true);
      expect(existsSync(join(root, 'README.md')), name).toBe(true);
      const files = execFileSync('find', [root, '-name', '*.ts', '-not', '-name', '*.d.ts']);
      expect(files.toString(), `${name} ships TypeScript sources`).toBe('');
    }
  });

  it('refuses deep imports of internal modules', () => {
    const deep = [
      '@serverless-sse-pubsub/cdk/dist/lib/sse-pub-sub.js',
      '@serverless-sse-pubsub/publisher/dist/publisher/publisher.js',
      '@serverless-sse-pubsub/client/dist/subscribe.js',
    ];
    for (const specifier of deep) {
      const result = spawnSync(
        process.execPath,
        ['--input-type=module', '-e', `await import(${JSON.stringify(specifier)})`],
        { cwd: app, encoding: 'utf8' },
      );
      expect(result.status, specifier).not.toBe(0);
      expect(result.stderr, specifier).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
    }
  });

  it('synthesizes a stack with the construct offline, from the prebuilt bundles', () => {
    // The consumer has no esbuild: the functions cannot have been bundled at synth.
    expect(existsSync(join(app, 'node_modules', 'esbuild'))).toBe(false);
    run('npx', ['cdk', 'synth', '--quiet'], app);

    const out = join(app, 'cdk.out');
    const templateText = readFileSync(join(out, 'Notifications.template.json'), 'utf8');
    const template = JSON.parse(templateText) as Template;
    const resources = Object.values(template.Resources);
    const ofType = (type: string) => resources.filter((r) => r.Type === type);

    expect(ofType('AWS::Lambda::Url').map((r) => r.Properties?.InvokeMode)).toEqual([
      'RESPONSE_STREAM',
    ]);
    expect(ofType('AWS::DynamoDB::Table')).toHaveLength(1);
    expect(ofType('AWS::SNS::Topic').length).toBeGreaterThanOrEqual(1);
    expect(ofType('AWS::CloudWatch::Alarm').length).toBeGreaterThanOrEqual(5);
    const functions = ofType('AWS::Lambda::Function').filter(
      (r) => r.Properties?.Handler === 'index.handler',
    );
    expect(functions.map((r) => r.Properties?.Runtime)).toEqual(['nodejs22.x', 'nodejs22.x']);

    // Each function's asset is a prebuilt bundle from the package.
    const assets = readdirSync(out).filter((f) => f.startsWith('asset.'));
    const bundles = assets.filter((a) => existsSync(join(out, a, 'index.mjs')));
    expect(bundles).toHaveLength(2);
    // Nothing in the cloud assembly points into this repository.
    for (const file of readdirSync(out).filter((f) => f.endsWith('.json'))) {
      expect(readFileSync(join(out, file), 'utf8'), file).not.toContain(REPO.replace(/\/$/, ''));
    }
  });

  it('type-checks a TypeScript user of all three packages', () => {
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    run(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], app);
  });

  describe('against a running local stack', () => {
    let stack: LocalStack;
    beforeAll(async () => {
      stack = await startLocalStack({ port: 0, inMemory: true, log: { info() {}, error() {} } });
    });
    afterAll(async () => stack?.stop());

    it('publishes with the publisher package and receives with the client package', async () => {
      // Asynchronously: the stack serves from this very process.
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['roundtrip.mjs', stack.url, stack.topicArn],
        { cwd: app, env: userEnv(), timeout: 60_000 },
      );
      expect(JSON.parse(stdout.trim())).toEqual({
        channel: expect.stringMatching(/^consumer\//),
        event: 'greeting',
        data: 'from an installed publisher',
      });
    });
  });
});
