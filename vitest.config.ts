import { defineConfig } from 'vitest/config';

// Browser tests need Chromium (`apt-get install chromium`), the Lambda runtime tests
// need Node 22 and aws-lambda-ric, the Web Function tests Node 24 and a synth of that
// host, the package tests pack and install the packages, and the interop tests need a
// Python venv; they run with `npm run test:browser`, `npm run test:lambda`,
// `npm run test:web-function`, `npm run test:packages` and `npm run test:interop` (and
// in CI), and stay out of `npm test`.
const browser =
  process.env.BROWSER_TESTS === '1' || process.argv.some((arg) => arg.includes('test/browser'));

export default defineConfig({
  test: {
    include: browser ? ['test/browser/**/*.test.ts'] : ['test/**/*.test.ts'],
    exclude: browser
      ? []
      : [
          'test/browser/**',
          'test/lambda-runtime/**',
          'test/web-function/**',
          'test/packages/**',
          'test/interop/**',
          'node_modules/**',
        ],
    globalSetup: ['test/support/dynamodb-local.global.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: {
      POWERTOOLS_DEV: 'false',
      AWS_REGION: 'us-east-1',
      // The SDK's notice that its 2027 releases need Node 22 says nothing about a test.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
