#!/usr/bin/env bash
# `bash scripts/run.sh <npm-script> [args…]`: bootstrap a fresh machine (see bootstrap.sh),
# then run the npm script under Node >= 22. The README's two commands use it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$GRIDBRAIN_ROOT"
script="$1"
shift
exec npm run --silent "$script" -- "$@"
