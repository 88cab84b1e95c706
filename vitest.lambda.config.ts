import { defineConfig } from 'vitest/config';

// Lambda fidelity tests: the bundles from cdk.out under AWS's runtime interface client
// (Node 22), behind a fake Runtime API and a function URL front (docs/lambda-fidelity.md).
// Needs `bash scripts/setup-lambda-runtime.sh` first; run with
// `npx vitest run --config vitest.lambda.config.ts`.
export default defineConfig({
  test: {
    include: ['test/lambda-runtime/**/*.test.ts'],
    globalSetup: ['test/support/dynamodb-local.global.ts', 'test/lambda-runtime/global-setup.ts'],
    // The tests measure timings on a 2-core machine: one file at a time.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { POWERTOOLS_DEV: 'false', AWS_REGION: 'us-east-1', LAMBDA_RUNTIME_TESTS: '1' },
  },
});
