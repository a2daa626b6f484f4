#!/usr/bin/env bash
# Idempotent set-up used by `npm start` and `npm test`: npm dependencies, a build, and (for tests)
# the Kafka clients we did not write, from Debian (kcat, librdkafka's Python binding, kafka-python,
# Go with sarama and kafka-go).
set -euo pipefail
cd "$(dirname "$0")/.."
want_test_tools="${1:-}"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Not `npm ci`: the registry mirror here lacks some other-platform optional packages that the
  # lock file names (e.g. biome's darwin binaries), which `npm ci` refuses; `npm install` honours
  # the lock and skips unavailable optional packages.
  npm install --no-audit --no-fund
fi

if [ "$want_test_tools" = "--test-tools" ]; then
  missing=()
  command -v kcat >/dev/null || missing+=(kcat)
  command -v openssl >/dev/null || missing+=(openssl) # test certificates for the client's TLS tests
  /usr/bin/python3 -c 'import confluent_kafka' 2>/dev/null || missing+=(python3-confluent-kafka)
  /usr/bin/python3 -c 'import kafka' 2>/dev/null || missing+=(python3-kafka)
  # Independent compressors for the kafka-python codec cross-check in @gregor/compression.
  /usr/bin/python3 -c 'import snappy' 2>/dev/null || missing+=(python3-snappy)
  /usr/bin/python3 -c 'import lz4' 2>/dev/null || missing+=(python3-lz4)
  /usr/bin/python3 -c 'import zstandard' 2>/dev/null || missing+=(python3-zstandard)
  # The Go clients (sarama, kafka-go), built offline from Debian's GOPATH tree by the e2e tests.
  command -v go >/dev/null || missing+=(golang-go)
  [ -d /usr/share/gocode/src/github.com/Shopify/sarama ] || missing+=(golang-github-shopify-sarama-dev)
  [ -d /usr/share/gocode/src/github.com/segmentio/kafka-go ] || missing+=(golang-github-segmentio-kafka-go-dev)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "setup: missing test tools (${missing[*]}); install them with apt-get as root" >&2
      exit 1
    fi
  fi
  # Fail here, with the reason, rather than in the end-to-end tests.
  kcat -V >/dev/null || { echo "setup: kcat does not run" >&2; exit 1; }
  /usr/bin/python3 -c 'import confluent_kafka, kafka' ||
    { echo "setup: /usr/bin/python3 cannot import confluent_kafka and kafka" >&2; exit 1; }
  go version >/dev/null || { echo "setup: go does not run" >&2; exit 1; }
  bash scripts/setup-go-modules.sh # the newest sarama and kafka-go, as Go modules
  # Apache Kafka's jars (Java clients, tools, Streams, Connect, MirrorMaker 2, the KRaft broker).
  bash scripts/kafka-jars.sh
  bash scripts/setup-franz-go.sh
  bash scripts/setup-python-clients.sh  # confluent-kafka, kafka-python, aiokafka from PyPI
  bash scripts/setup-etcd.sh  # Debian's etcd-server for @gregor/metadata and the cluster tests
fi

npx tsc -b packages/*/tsconfig.json
