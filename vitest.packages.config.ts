import { defineConfig } from 'vitest/config';

// The packages as a user installs them: packed tarballs in a new CDK app outside this
// repository (test/packages). It packs, installs from the registry and synthesizes, so it
// runs on its own: `npm run test:packages` (and in CI).
export default defineConfig({
  test: {
    include: ['test/packages/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    env: {
      POWERTOOLS_DEV: 'false',
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
