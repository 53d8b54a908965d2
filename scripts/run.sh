#!/usr/bin/env bash
# `bash scripts/run.sh <npm-script> [args…]`: bootstrap a fresh machine (see bootstrap.sh),
# then run the npm script under Node >= 22. The README's two commands use it.
set -euo pipefail
script="${1:?usage: bash scripts/run.sh <npm-script> [args…]}"
shift
# Chromium only for the commands that run the browser test.
case "$script" in
  test | test:browser) export GRIDBRAIN_WITH_BROWSER=1 ;;
esac
. "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$GRIDBRAIN_ROOT"
exec npm run --silent "$script" -- "$@"
