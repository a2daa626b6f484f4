#!/usr/bin/env bash
# The librdkafka-based Node clients for `npm run bench -- client` (@confluentinc/kafka-javascript
# and node-rdkafka, pinned in packages/e2e/clients/native/package.json). Not part of `npm install`:
# neither installs from the npm registry alone here. Their prebuilt binaries are downloaded from
# github.com (node-pre-gyp), which is not reachable, and confluent's fallback source build fetches
# zlib/OpenSSL/zstd/curl sources from the internet (`--install-deps --source-deps-only`). So both
# are compiled from the librdkafka source bundled in their npm packages, linked against Debian's
# -dev libraries (CKJS_LINKING=dynamic for confluent): a few minutes, once. Not with JOBS>1:
# confluent's gyp files let make start on librdkafka before its configure step wrote config.h.
#
# They live outside the repository, in a folder named after the hash of the pins:
#   ${XDG_CACHE_HOME:-~/.cache}/gregor-native-clients/<hash>/node_modules
# packages/e2e/src/tools/client-bench/native-clients.ts computes the same folder.
set -euo pipefail
cd "$(dirname "$0")/.."
manifest=packages/e2e/clients/native/package.json
key=$(sha256sum "$manifest" | cut -c1-16)
folder="${XDG_CACHE_HOME:-$HOME/.cache}/gregor-native-clients/$key"

loads() {
  (cd "$folder" && node -e 'require("@confluentinc/kafka-javascript"); require("node-rdkafka")') 2>/dev/null
}
if [ -f "$folder/.complete" ] && loads; then exit 0; fi

packages=(zlib1g-dev libssl-dev libzstd-dev libcurl4-openssl-dev libsasl2-dev liblz4-dev g++ make python3)
missing=()
for package in "${packages[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup-native-clients: missing ${missing[*]}; apt-get install them as root" >&2
    exit 1
  fi
fi

rm -rf "$folder"
mkdir -p "$folder"
cp "$manifest" "$folder/package.json"
(cd "$folder" && CKJS_LINKING=dynamic npm install --no-audit --no-fund --foreground-scripts >install.log 2>&1) ||
  { echo "setup-native-clients: npm install failed, see $folder/install.log" >&2; tail -30 "$folder/install.log" >&2; exit 1; }
loads || { echo "setup-native-clients: the built clients do not load" >&2; exit 1; }
touch "$folder/.complete"
