import { defineConfig } from 'vitest/config';

// Browser tests need Chromium (`apt-get install chromium`); they run with
// `npm run test:browser` and in CI, and stay out of `npm test`.
const browser =
  process.env.BROWSER_TESTS === '1' || process.argv.some((arg) => arg.includes('test/browser'));

export default defineConfig({
  test: {
    include: browser ? ['test/browser/**/*.test.ts'] : ['test/**/*.test.ts'],
    exclude: browser ? [] : ['test/browser/**', 'node_modules/**'],
    globalSetup: ['test/support/dynamodb-local.global.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: { POWERTOOLS_DEV: 'false', AWS_REGION: 'us-east-1' },
  },
});
