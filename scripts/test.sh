#!/usr/bin/env bash
# The whole test suite: set-up, lint, then every compiled test file (unit, conformance, fuzz,
# end-to-end with real clients). What CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test-tools
npx biome check --diagnostic-level=error .
mapfile -t files < <(find packages -path '*/node_modules' -prune -o -path '*/dist/*' -name '*.test.js' -print | sort)
exec node --test --test-concurrency=2 --test-timeout=600000 "${files[@]}"
