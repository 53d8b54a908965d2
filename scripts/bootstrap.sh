#!/usr/bin/env bash
# Makes this checkout buildable and testable on a fresh machine, idempotently:
#   1. Node >= 22 on PATH (Hardhat 3 refuses older Node). On an older Node we install the
#      `node` package from the npm registry (it ships a real binary) into .toolchain/ and put
#      it first on PATH. `npm ci` then runs under Node 22 too, which matters: under Node 20
#      npm silently skips EDR's native package and `hardhat test` later fails with HHE27.
#   2. The project's npm dependencies (`npm ci`), when node_modules is missing or stale.
#   3. redis-server (Debian's package) when absent and we can install as root.
#   4. Only with GRIDBRAIN_WITH_BROWSER=1 (`scripts/run.sh` sets it for `test` and
#      `test:browser`): Debian's Chromium, which only the web app's browser test drives.
# Source it (`. scripts/bootstrap.sh`) to keep the PATH change in your shell. The work runs in a
# subshell with `set -euo pipefail`, so sourcing leaves your shell's options as they were, and a
# failure returns an error status instead of closing your shell.
GRIDBRAIN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

(
set -euo pipefail
GRIDBRAIN_NODE_VERSION="22.23.3"
toolchain_dir="$GRIDBRAIN_ROOT/.toolchain"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$toolchain_dir/node_modules/node/bin/node" ]; then
  export PATH="$toolchain_dir/node_modules/node/bin:$PATH"
fi
if [ "$(node_major)" -lt 22 ]; then
  echo "bootstrap: Node $(node -v 2>/dev/null || echo none) is older than 22; installing node@$GRIDBRAIN_NODE_VERSION from the npm registry into .toolchain/" >&2
  mkdir -p "$toolchain_dir"
  [ -f "$toolchain_dir/package.json" ] || echo '{ "private": true }' >"$toolchain_dir/package.json"
  npm install --prefix "$toolchain_dir" --no-audit --no-fund --loglevel=error "node@$GRIDBRAIN_NODE_VERSION" >&2
  export PATH="$toolchain_dir/node_modules/node/bin:$PATH"
  if [ "$(node_major)" -lt 22 ]; then
    echo "bootstrap: failed to bring Node 22 onto PATH (node -v says $(node -v))" >&2
    exit 1
  fi
fi

# npm writes node_modules/.package-lock.json on every install; if package-lock.json is newer,
# the tree is stale.
if [ ! -f "$GRIDBRAIN_ROOT/node_modules/.package-lock.json" ] ||
  [ "$GRIDBRAIN_ROOT/package-lock.json" -nt "$GRIDBRAIN_ROOT/node_modules/.package-lock.json" ]; then
  echo "bootstrap: npm ci (Node $(node -v))" >&2
  (cd "$GRIDBRAIN_ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

install_debian_packages() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: please install Debian packages: sudo apt-get install -y $*" >&2
    return 1
  fi
  if [ -z "${GRIDBRAIN_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    export GRIDBRAIN_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

if ! command -v redis-server >/dev/null 2>&1; then
  echo "bootstrap: redis-server not found; installing Debian's redis-server" >&2
  install_debian_packages redis-server
fi

# Debian's Chromium drives the browser test (playwright-core never downloads a browser here);
# nothing else needs it, so the demo and a plain `. scripts/bootstrap.sh` do not install it.
if [ "${GRIDBRAIN_WITH_BROWSER:-}" = "1" ] && [ ! -x /usr/bin/chromium ]; then
  echo "bootstrap: /usr/bin/chromium not found; installing Debian's chromium for the browser test" >&2
  install_debian_packages chromium
fi
)
# Not `( … ) || …`: inside an `||` list bash ignores `set -e`, also in the subshell.
gridbrain_bootstrap_status=$?
if [ "$gridbrain_bootstrap_status" -ne 0 ]; then
  echo "bootstrap: failed (exit $gridbrain_bootstrap_status)" >&2
  # `return` when sourced (the user's shell stays open), `exit` when run as a script.
  return "$gridbrain_bootstrap_status" 2>/dev/null || exit "$gridbrain_bootstrap_status"
fi
unset gridbrain_bootstrap_status

# The subshell's PATH change does not reach the caller: repeat it here (no-op when already first).
if [ -x "$GRIDBRAIN_ROOT/.toolchain/node_modules/node/bin/node" ]; then
  case ":$PATH:" in
    ":$GRIDBRAIN_ROOT/.toolchain/node_modules/node/bin:"*) ;;
    *) export PATH="$GRIDBRAIN_ROOT/.toolchain/node_modules/node/bin:$PATH" ;;
  esac
fi
