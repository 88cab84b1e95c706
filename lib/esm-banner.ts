/**
 * ESM bundles cannot call `require`, yet some CommonJS dependencies do (for Node
 * built-ins); esbuild's `__require` shim finds this one. Shared by the CDK bundling and
 * the benchmark, which builds the same bundles.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __ssePubSubCreateRequire } from 'node:module'; const require = __ssePubSubCreateRequire(import.meta.url);";
