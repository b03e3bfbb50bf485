#!/usr/bin/env bash
# `npm test [-- FILES or node --test FLAGS]`: set up (packages, npm ci, build), lint, run the tests.
# With no arguments it also runs `npm run lint` (STYLE.md: ESLint and Prettier run in the test
# command); a lint failure fails the run but the tests still run, and their summary line stays last.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"
bash scripts/setup.sh test

lint_failed=0
if (($# == 0)) && compgen -G 'eslint.config.*' >/dev/null; then
	if ! npm run -s lint </dev/null; then
		lint_failed=1
		echo "lint: FAILED (npm run lint, above); running the tests anyway" >&2
	fi
fi

tests_rc=0
node scripts/run-tests.mjs "$@" || tests_rc=$?
if ((lint_failed && tests_rc == 0)); then tests_rc=1; fi
exit "$tests_rc"
