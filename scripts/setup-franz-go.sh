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
# Idempotent: a no-op when the modules are cached.
"$go_binary" mod download
# Compiles the kgo test binary once into Go's build cache (about a minute of CPU cold, a few
# seconds when cached), so the test itself only links it instead of compiling beside other tests.
binary_directory="$(mktemp -d)"
trap 'rm -rf "$binary_directory"' EXIT
"$go_binary" test -c -vet=off -o "$binary_directory/kgo.test" github.com/twmb/franz-go/pkg/kgo
