import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The rule folders stay free of AWS, Lambda, Powertools, Node's HTTP server and
// process.env because Biome refuses them there (biome.json, overrides). This lints planted
// files with the project's own configuration, so a rule dropped from biome.json, or a rule
// folder missing from its list, fails here and not in review.
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BIOME = join(REPO, 'node_modules/@biomejs/biome/bin/biome');
const RULE_FOLDERS = ['core', 'http', 'auth', 'writer', 'config'];
const ADAPTER_FOLDERS = ['adapters/dynamodb', 'adapters/node', 'handlers'];

const PLANTS = {
  'aws-sdk':
    "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\n\nexport const x = DynamoDBClient;\n",
  smithy: "import { Client } from '@smithy/smithy-client';\n\nexport const x = Client;\n",
  'aws-lambda': "import type { Context } from 'aws-lambda';\n\nexport type X = Context;\n",
  powertools:
    "import { Logger } from '@aws-lambda-powertools/logger';\n\nexport const x = Logger;\n",
  'node-http': "import { createServer } from 'node:http';\n\nexport const x = createServer;\n",
  'process-env': 'export const x = process.env.TABLE_NAME;\n',
} as const;

interface Diagnostic {
  readonly category: string;
  readonly location: { readonly path: string };
}

let root: string;
let flagged: Map<string, string[]>;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sse-pubsub-purity-'));
  const config = JSON.parse(readFileSync(join(REPO, 'biome.json'), 'utf8'));
  delete config.$schema;
  config.vcs = { enabled: false };
  config.files = { includes: ['**'] };
  writeFileSync(join(root, 'biome.json'), JSON.stringify(config));
  for (const folder of [...RULE_FOLDERS, ...ADAPTER_FOLDERS]) {
    for (const [name, text] of Object.entries(PLANTS)) {
      const file = join(root, 'functions', folder, `${name}.ts`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
  }
  // Biome exits 1 when it finds something: the report is on stdout either way.
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [BIOME, 'lint', '--reporter=json', '--max-diagnostics=none', '.'],
    { cwd: root, maxBuffer: 16 * 1024 * 1024 },
  ).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
  const report = JSON.parse(stdout) as { diagnostics: Diagnostic[] };
  flagged = new Map();
  for (const d of report.diagnostics) {
    const rules = flagged.get(d.location.path) ?? [];
    rules.push(d.category);
    flagged.set(d.location.path, rules);
  }
}, 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('Config: biome.json purity rules', () => {
  const cases = RULE_FOLDERS.flatMap((folder) =>
    Object.keys(PLANTS).map((plant) => [folder, plant] as const),
  );

  it.each(cases)('refuses in functions/%s: %s', (folder, plant) => {
    const rules = flagged.get(`functions/${folder}/${plant}.ts`) ?? [];
    expect(rules).toContain(
      plant === 'process-env' ? 'lint/style/noRestrictedGlobals' : 'lint/style/noRestrictedImports',
    );
  });

  it.each(ADAPTER_FOLDERS)('allows all of it in functions/%s', (folder) => {
    const purity = [...flagged]
      .filter(([path]) => path.startsWith(`functions/${folder}/`))
      .flatMap(([, rules]) => rules)
      .filter((rule) => rule.includes('noRestricted'));
    expect(purity).toEqual([]);
  });
});
