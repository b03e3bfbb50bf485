#!/usr/bin/env bash
# `npm test [-- FILES or node --test FLAGS]`: set up (packages, npm ci, build), then run the tests.
# Typechecking happens in the build; lint, Prettier, schema.graphql drift and migration drift are tests
# themselves (tests/static/), so they count in the summary line.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"
bash scripts/setup.sh test

exec node scripts/run-tests.mjs "$@"
