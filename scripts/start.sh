#!/usr/bin/env bash
# `npm start [-- FLAGS]`: set up what is missing, then run the daemon in the foreground.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
bash "$REPO/scripts/setup.sh" start
exec node "$REPO/server/dist/main.js" serve "$@"
