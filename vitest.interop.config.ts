import { defineConfig } from 'vitest/config';

// Interop with SSE clients outside Node: Python's httpx-sse, from the dev-only venv that
// `bash scripts/setup-python-interop.sh` makes. Run with `npm run test:interop`.
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: {
      POWERTOOLS_DEV: 'false',
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
