#!/usr/bin/env bash
# The newest Python Kafka clients from PyPI (confluent-kafka, kafka-python 3.x and 2.x, aiokafka,
# with their codecs) for the e2e tests, pinned in packages/e2e/clients/python/requirements-*.txt.
#
# They live outside the repository (biome and git never see them), in a folder named after the
# hash of the requirement files, so clones with different pins never share one:
#   ${XDG_CACHE_HOME:-~/.cache}/gregor-python-clients/<hash>/venv            (3.x and the rest)
#   ${XDG_CACHE_HOME:-~/.cache}/gregor-python-clients/<hash>/kafka-python-2  (PYTHONPATH overlay)
# packages/e2e/src/harness/python-runtimes.ts computes the same folder. The interpreter is
# Debian's python3.11 (bookworm's python3, the one the Debian client tests use), with its venv
# module from apt when missing. Idempotent: a complete folder whose clients import is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=packages/e2e/clients/python/requirements-newest.txt
requirements_kafka_python_2=packages/e2e/clients/python/requirements-kafka-python-2.txt
interpreter=/usr/bin/python3.11
key=$(cat "$requirements" "$requirements_kafka_python_2" | sha256sum | cut -c1-16)
folder="${XDG_CACHE_HOME:-$HOME/.cache}/gregor-python-clients/$key"
venv_python="$folder/venv/bin/python"

imports_work() {
  "$venv_python" -c 'import confluent_kafka, kafka, aiokafka, snappy, lz4.frame, zstandard, cramjam' 2>/dev/null &&
    PYTHONPATH="$folder/kafka-python-2" "$venv_python" -c 'import kafka; assert kafka.__version__.startswith("2.")' 2>/dev/null
}

if [ -f "$folder/.complete" ] && imports_work; then exit 0; fi

if [ ! -x "$interpreter" ] || ! "$interpreter" -c 'import ensurepip, venv' 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv >/dev/null
  else
    echo "setup-python-clients: $interpreter with its venv module is missing; apt-get install python3.11-venv as root" >&2
    exit 1
  fi
fi

rm -rf "$folder"
mkdir -p "$folder"
"$interpreter" -m venv "$folder/venv"
# Wheels only: every pinned package has a manylinux wheel for CPython 3.11, and a source build
# would need compilers and minutes.
"$venv_python" -m pip install -q --disable-pip-version-check --only-binary=:all: -r "$requirements"
"$venv_python" -m pip install -q --disable-pip-version-check --only-binary=:all: --no-deps \
  --target "$folder/kafka-python-2" -r "$requirements_kafka_python_2"
imports_work || { echo "setup-python-clients: the installed clients do not import" >&2; exit 1; }
touch "$folder/.complete"
