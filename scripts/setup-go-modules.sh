#!/usr/bin/env bash
# The newest Go Kafka clients for the end-to-end tests (sarama, kafka-go): downloads the modules
# that packages/e2e/go-modules/*/go.mod and go.sum pin into Go's module cache (from the Go module
# proxy; go.sum checks every file) and compiles each driver once into Go's build cache, with the
# same GOFLAGS and CGO_ENABLED as the tests' build (harness/go-client.ts), which then only
# compiles the driver itself and links, never downloads. Idempotent; about a second when cached.
set -euo pipefail
cd "$(dirname "$0")/.."

go_version_minimum=1.26
go_version=$(go env GOVERSION 2>/dev/null || true)
if ! printf '%s\n%s\n' "go$go_version_minimum" "${go_version:-go0}" | sort -V -C; then
  echo "setup-go-modules: the Go-module drivers need Go >= $go_version_minimum on PATH, found '${go_version:-no go}'" >&2
  exit 1
fi

export GOFLAGS='-mod=readonly -buildvcs=false' CGO_ENABLED=0 GOTOOLCHAIN=local
for module in packages/e2e/go-modules/*/; do
  # go.sum holds every module's hash, so the checksum database is not consulted.
  GONOSUMDB='*' go -C "$module" mod download
  # Every package the driver needs except the driver itself: several packages, so nothing is linked.
  go -C "$module" build $(go -C "$module" list -deps -f '{{if ne .Name "main"}}{{.ImportPath}}{{end}}' .)
done
