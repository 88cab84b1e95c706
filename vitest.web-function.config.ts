import { defineConfig } from 'vitest/config';

// Web Function tests: the server bundle from a synth with the Web Function host, started
// under Node 24 as Lambda starts it, against DynamoDB Local, with the writer in another
// process (this one). Run with `npm run test:web-function`.
export default defineConfig({
  test: {
    include: ['test/web-function/**/*.test.ts'],
    globalSetup: ['test/support/dynamodb-local.global.ts', 'test/web-function/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 360_000,
    env: {
      POWERTOOLS_DEV: 'false',
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
