#!/usr/bin/env bash
# franz-go (the version pinned in packages/e2e/go-modules/franz-go-suite/go.mod) into the Go module
# cache, for packages/e2e/src/franz-go-suite.test.ts, which runs franz-go's own kgo integration
# tests against the broker. franz-go needs Go >= 1.26: the toolchain in /usr/local/go, never
# Debian's golang-go (1.19 here), and never a toolchain download (GOTOOLCHAIN=local).
set -euo pipefail
cd "$(dirname "$0")/../packages/e2e/go-modules/franz-go-suite"
go_binary="${GREGOR_FRANZ_GO_TOOLCHAIN:-/usr/local/go/bin/go}"
if ! "$go_binary" version >/dev/null 2>&1; then
  echo "setup-franz-go: no Go toolchain at $go_binary (Go >= 1.26 is needed; set GREGOR_FRANZ_GO_TOOLCHAIN)" >&2
  exit 1
fi
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly
# Idempotent: a no-op when the modules are cached; `go list` then proves the test package resolves.
"$go_binary" mod download
"$go_binary" list -test -deps github.com/twmb/franz-go/pkg/kgo >/dev/null
