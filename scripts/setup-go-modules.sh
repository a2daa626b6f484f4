#!/usr/bin/env bash
# The newest Go Kafka clients for the end-to-end tests: downloads the modules that
# packages/e2e/go-modules/{sarama,kafka-go}-newest/go.mod and go.sum pin (those the drivers'
# packages come from) into Go's module cache (from the Go module proxy; go.sum checks every file)
# and compiles every package each driver needs into Go's build cache, with the same GOFLAGS and CGO_ENABLED as the tests' build
# (harness/go-client.ts), which then compiles only the driver, links, and never downloads.
# Go >= 1.26 from /usr/local/go, as for franz-go (scripts/setup-franz-go.sh), never a toolchain
# download. Idempotent; a second or two when everything is cached.
set -euo pipefail
cd "$(dirname "$0")/../packages/e2e/go-modules"
go_binary="${GREGOR_FRANZ_GO_TOOLCHAIN:-/usr/local/go/bin/go}"
if ! "$go_binary" version >/dev/null 2>&1; then
  echo "setup-go-modules: no Go toolchain at $go_binary (Go >= 1.26 is needed; set GREGOR_FRANZ_GO_TOOLCHAIN)" >&2
  exit 1
fi
export GOFLAGS='-mod=readonly -buildvcs=false' CGO_ENABLED=0 GOTOOLCHAIN=local
for module in sarama-newest kafka-go-newest; do
  # The modules the driver's packages come from: `go list -deps` resolves them (fetching each one
  # it needs); a bare `go mod download` would also fetch the test-only dependencies of the whole
  # module graph (about 300 MB more, mostly compression test data).
  modules=$("$go_binary" -C "$module" list -deps \
    -f '{{with .Module}}{{if not (or .Main .Replace)}}{{.Path}}{{end}}{{end}}' . | sort -u)
  "$go_binary" -C "$module" mod download $modules
  # Every package the driver needs but the driver itself: several packages, so nothing is linked.
  "$go_binary" -C "$module" build $("$go_binary" -C "$module" list -deps -f '{{if ne .Name "main"}}{{.ImportPath}}{{end}}' .)
done
