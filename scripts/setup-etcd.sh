#!/usr/bin/env bash
# Debian's etcd-server, for @gregor/metadata's EtcdMetadataStore tests and the cluster tests. The
# tests start their own etcd on free loopback ports; the package's own service is stopped so it
# holds no port (Debian starts it on install).
set -euo pipefail
if ! command -v etcd >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup-etcd: etcd is missing; install Debian's etcd-server as root" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
  if command -v systemctl >/dev/null && systemctl is-active --quiet etcd 2>/dev/null; then
    systemctl stop etcd || true
    systemctl disable etcd >/dev/null 2>&1 || true
  fi
fi
etcd --version >/dev/null || { echo "setup-etcd: etcd does not run" >&2; exit 1; }
